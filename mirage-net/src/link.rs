//! An in-memory Ethernet link: two `Network` ends joined by a wire, for tests.

use bytes::Bytes;
use mirage_types::{
    Device, ETHERNET_HEADER_LEN, FrameHandler, MacAddr, NetError, Network, Stats, StatsCounter,
    async_trait,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use tokio::sync::mpsc;

/// What the wire does to frames: [`LinkFaults::default`] (a perfect wire) and its setters.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct LinkFaults {
    /// The probability that a frame is lost.
    pub loss: f64,
    /// The probability that one byte of a frame is changed in flight.
    pub corruption: f64,
    /// Seed of the faults' random choices, for reproducible runs.
    pub seed: u64,
}

impl LinkFaults {
    /// Sets `loss`: the probability that a frame is lost.
    pub fn loss(mut self, loss: f64) -> Self {
        self.loss = loss;
        self
    }

    /// Sets `corruption`: the probability that one byte of a frame is changed.
    pub fn corruption(mut self, corruption: f64) -> Self {
        self.corruption = corruption;
        self
    }

    /// Sets `seed`: the seed of the random choices.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
}

impl Default for LinkFaults {
    /// A perfect wire.
    fn default() -> Self {
        LinkFaults {
            loss: 0.0,
            corruption: 0.0,
            seed: 0,
        }
    }
}

/// One end of an in-memory link (see [`MemLink::pair`]).
pub struct MemLink {
    mac: MacAddr,
    mtu: usize,
    outgoing: mpsc::UnboundedSender<Bytes>,
    incoming: RefCell<Option<mpsc::UnboundedReceiver<Bytes>>>,
    faults: LinkFaults,
    rng: RefCell<StdRng>,
    stats: StatsCounter,
    disconnected: Rc<Cell<bool>>,
    stop: tokio::sync::Notify,
}

impl MemLink {
    /// Two ends of a perfect wire, with MACs `02:00:00:00:00:01` and `…:02`, MTU 1500.
    pub fn pair() -> (MemLink, MemLink) {
        Self::pair_with(LinkFaults::default())
    }

    /// Two ends of a wire that loses or corrupts frames as `faults` says.
    pub fn pair_with(faults: LinkFaults) -> (MemLink, MemLink) {
        let (a_tx, a_rx) = mpsc::unbounded_channel();
        let (b_tx, b_rx) = mpsc::unbounded_channel();
        let end = |n: u8, tx, rx, seed: u64| MemLink {
            mac: MacAddr([2, 0, 0, 0, 0, n]),
            mtu: 1500,
            outgoing: tx,
            incoming: RefCell::new(Some(rx)),
            faults,
            rng: RefCell::new(StdRng::seed_from_u64(seed)),
            stats: StatsCounter::default(),
            disconnected: Rc::new(Cell::new(false)),
            stop: tokio::sync::Notify::new(),
        };
        (
            end(1, b_tx, a_rx, faults.seed),
            end(2, a_tx, b_rx, faults.seed.wrapping_add(1)),
        )
    }
}

#[async_trait(?Send)]
impl Device for MemLink {
    async fn disconnect(&self) {
        self.disconnected.set(true);
        self.stop.notify_one();
    }
}

impl MemLink {
    /// Whether a frame of `len` bytes may go on the wire now.
    fn admit(&self, len: usize) -> Result<(), NetError> {
        if self.disconnected.get() {
            return Err(NetError::Disconnected);
        }
        let max = self.mtu + ETHERNET_HEADER_LEN;
        if !(ETHERNET_HEADER_LEN..=max).contains(&len) {
            return Err(NetError::InvalidLength { len, max });
        }
        Ok(())
    }

    /// Puts `frame` on the wire, where the faults may lose or corrupt it.
    fn transmit(&self, frame: Bytes) -> Result<(), NetError> {
        self.admit(frame.len())?;
        self.stats.sent(frame.len());
        let mut rng = self.rng.borrow_mut();
        // A perfect wire draws no random numbers.
        let chance = |rng: &mut StdRng, p: f64| p > 0.0 && rng.random_bool(p.min(1.0));
        if chance(&mut rng, self.faults.loss) {
            return Ok(());
        }
        let frame = if chance(&mut rng, self.faults.corruption) {
            let mut corrupted = frame.to_vec();
            let at = rng.random_range(0..corrupted.len());
            corrupted[at] ^= rng.random_range(1..=255u8);
            Bytes::from(corrupted)
        } else {
            frame
        };
        // The other end may be gone: then the frame is lost, as on a cut wire.
        let _ = self.outgoing.send(frame);
        Ok(())
    }
}

#[async_trait(?Send)]
impl Network for MemLink {
    async fn write(&self, frame: &[u8]) -> Result<(), NetError> {
        // Refused before any copy is made.
        self.admit(frame.len())?;
        self.transmit(Bytes::copy_from_slice(frame))
    }

    /// The frame itself crosses the wire, not a copy.
    async fn write_owned(&self, frame: Bytes) -> Result<(), NetError> {
        self.transmit(frame)
    }

    /// All of them onto the wire at once.
    async fn write_many(&self, frames: Vec<Bytes>) -> Result<(), NetError> {
        // Every frame is transmitted; `and` keeps the first refusal.
        frames
            .into_iter()
            .map(|frame| self.transmit(frame))
            .fold(Ok(()), Result::and)
    }

    async fn listen(&self, handler: FrameHandler) -> Result<(), NetError> {
        let mut incoming = self
            .incoming
            .borrow_mut()
            .take()
            .ok_or_else(|| NetError::Unknown("this end is already being listened on".into()))?;
        loop {
            if self.disconnected.get() {
                return Ok(());
            }
            let first = tokio::select! {
                frame = incoming.recv() => match frame {
                    Some(frame) => frame,
                    None => return Ok(()),
                },
                () = self.stop.notified() => continue,
            };
            // Then every frame already on the wire, without waiting again for each.
            let mut next = Some(first);
            while let Some(frame) = next {
                self.stats.received(frame.len());
                handler(frame).await;
                if self.disconnected.get() {
                    return Ok(());
                }
                next = incoming.try_recv().ok();
            }
        }
    }

    fn mac(&self) -> MacAddr {
        self.mac
    }

    fn mtu(&self) -> usize {
        self.mtu
    }

    fn get_stats_counters(&self) -> Stats {
        self.stats.get()
    }

    fn reset_stats_counters(&self) {
        self.stats.reset();
    }
}
