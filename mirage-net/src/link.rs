//! An in-memory Ethernet link: two `Network` ends joined by a wire, for tests.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

use bytes::Bytes;
use mirage_types::{
    Device, ETHERNET_HEADER_LEN, FrameHandler, MacAddr, NetError, Network, Stats, StatsCounter,
    async_trait,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use std::task::Poll;

/// What the wire does to frames: [`LinkFaults::default`] (a perfect wire) and its setters.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct LinkFaults {
    /// The probability that a frame is lost.
    pub loss: f64,
    /// The probability that one byte of a frame is changed in flight.
    pub corruption: f64,
    /// The probability that a frame arrives twice.
    pub duplication: f64,
    /// Seed of the faults' random choices, for reproducible runs.
    pub seed: u64,
}

impl LinkFaults {
    /// Sets `loss`: the probability that a frame is lost.
    pub fn loss(mut self, loss: f64) -> Self {
        self.loss = loss;
        self
    }

    /// Sets `duplication`: the probability that a frame arrives twice.
    pub fn duplication(mut self, duplication: f64) -> Self {
        self.duplication = duplication;
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
            duplication: 0.0,
            seed: 0,
        }
    }
}

/// Frames one direction of the wire holds while its receiver has not taken them, as a NIC's
/// receive ring holds a bounded number: beyond it a frame is lost. (An end nobody listens to
/// yet, or a receiver slower than its sender, costs at most this many frames of memory; TCP
/// resends what was lost.)
const WIRE_FRAMES: usize = 4096;

/// One direction of the wire: the frames in flight, and whoever waits at the far end.
///
/// Both ends of a link live on one thread (a `MemLink` is not `Send`), so a plain queue
/// does what a channel would, without its atomics: smoltcp's own loopback device is one too.
#[derive(Default)]
struct Wire {
    frames: RefCell<VecDeque<Bytes>>,
    /// The receiving end's task, while it waits for a frame.
    waiting: crate::waiter::Waiter,
    sender_gone: Cell<bool>,
    receiver_gone: Cell<bool>,
}

impl Wire {
    fn wake(&self) {
        self.waiting.wake();
    }

    /// Puts `frame` in flight; lost if nobody is at the far end, as on a cut wire, or if
    /// [`WIRE_FRAMES`] are in flight already, as at a full receive ring.
    fn send(&self, frame: Bytes) {
        let mut frames = self.frames.borrow_mut();
        if !self.receiver_gone.get() && frames.len() < WIRE_FRAMES {
            frames.push_back(frame);
            drop(frames);
            self.wake();
        }
    }

    /// Nobody will receive from here again: what is in flight and what comes later is lost.
    fn close_receiving(&self) {
        self.receiver_gone.set(true);
        self.frames.borrow_mut().clear();
    }

    fn try_recv(&self) -> Option<Bytes> {
        self.frames.borrow_mut().pop_front()
    }

    /// The next frame, or `None` once `stop` is set or the sending end is gone and the wire
    /// is empty. (Whoever sets `stop` wakes the waiting end with [`Wire::wake`].)
    async fn recv(&self, stop: &Cell<bool>) -> Option<Bytes> {
        std::future::poll_fn(|cx| {
            if stop.get() {
                return Poll::Ready(None);
            }
            match self.try_recv() {
                Some(frame) => Poll::Ready(Some(frame)),
                None if self.sender_gone.get() => Poll::Ready(None),
                None => {
                    self.waiting.register(cx);
                    Poll::Pending
                }
            }
        })
        .await
    }
}

/// One end of an in-memory link (see [`MemLink::pair`]).
///
/// Each direction holds at most 4096 frames its receiver has not taken yet; frames sent
/// beyond that are lost, as at a full receive ring (and counted as sent, as a NIC counts
/// frames it put on the wire).
pub struct MemLink {
    mac: MacAddr,
    mtu: usize,
    outgoing: Rc<Wire>,
    incoming: Rc<Wire>,
    listening: Cell<bool>,
    faults: LinkFaults,
    rng: RefCell<StdRng>,
    stats: StatsCounter,
    disconnected: Rc<Cell<bool>>,
}

impl MemLink {
    /// Two ends of a perfect wire, with MACs `02:00:00:00:00:01` and `…:02`, MTU 1500.
    pub fn pair() -> (MemLink, MemLink) {
        Self::pair_with(LinkFaults::default())
    }

    /// Two ends of a wire that loses or corrupts frames as `faults` says.
    pub fn pair_with(faults: LinkFaults) -> (MemLink, MemLink) {
        let (to_a, to_b) = (Rc::new(Wire::default()), Rc::new(Wire::default()));
        let end = |n: u8, outgoing: &Rc<Wire>, incoming: &Rc<Wire>, seed: u64| MemLink {
            mac: MacAddr([2, 0, 0, 0, 0, n]),
            mtu: 1500,
            outgoing: outgoing.clone(),
            incoming: incoming.clone(),
            listening: Cell::new(false),
            faults,
            rng: RefCell::new(StdRng::seed_from_u64(seed)),
            stats: StatsCounter::default(),
            disconnected: Rc::new(Cell::new(false)),
        };
        (
            end(1, &to_b, &to_a, faults.seed),
            end(2, &to_a, &to_b, faults.seed.wrapping_add(1)),
        )
    }
}

impl Drop for MemLink {
    fn drop(&mut self) {
        self.outgoing.sender_gone.set(true);
        self.outgoing.wake();
        self.incoming.close_receiving();
    }
}

/// Closes the receiving side of a wire when `listen` ends, however it ends (returns or is
/// dropped), so frames for an end nobody listens to any more are not kept.
struct ClosesReceiving<'a>(&'a Wire);

impl Drop for ClosesReceiving<'_> {
    fn drop(&mut self) {
        self.0.close_receiving();
    }
}

#[async_trait(?Send)]
impl Device for MemLink {
    async fn disconnect(&self) {
        self.disconnected.set(true);
        // `listen` sees it at once, if it is waiting for a frame.
        self.incoming.wake();
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

    /// Puts `frame` on the wire, where the faults may lose, corrupt or duplicate it.
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
        if chance(&mut rng, self.faults.duplication) {
            self.outgoing.send(frame.clone());
        }
        self.outgoing.send(frame);
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
        if self.listening.replace(true) {
            return Err(NetError::Unknown(
                "this end is already being listened on".into(),
            ));
        }
        let incoming = &self.incoming;
        let _closes = ClosesReceiving(incoming);
        loop {
            // Until the end is disconnected or the far end is gone.
            let Some(first) = incoming.recv(&self.disconnected).await else {
                return Ok(());
            };
            // Then every frame already on the wire, without waiting again for each.
            let mut next = Some(first);
            while let Some(frame) = next {
                self.stats.received(frame.len());
                handler(frame).await;
                if self.disconnected.get() {
                    return Ok(());
                }
                next = incoming.try_recv();
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

#[cfg(test)]
mod tests {
    use super::*;

    fn block_on(test: impl std::future::Future<Output = ()>) {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(test);
    }

    fn frame(byte: u8) -> Vec<u8> {
        vec![byte; 60]
    }

    /// A handler that notes the first byte of each frame it is given.
    fn first_bytes_seen() -> (Rc<RefCell<Vec<u8>>>, FrameHandler) {
        let seen = Rc::new(RefCell::new(Vec::new()));
        let log = seen.clone();
        let handler =
            mirage_types::frame_handler_now(move |frame: Bytes| log.borrow_mut().push(frame[0]));
        (seen, handler)
    }

    /// Frames arrive in order; a second listener is refused; `listen` ends when the far end
    /// is dropped, after the frames already on the wire.
    #[test]
    fn frames_in_order_until_the_far_end_is_gone() {
        block_on(async {
            let (a, b) = MemLink::pair();
            a.write(&frame(1)).await.unwrap();
            a.write_many(vec![frame(2).into(), frame(3).into()])
                .await
                .unwrap();
            drop(a);
            let (seen, handler) = first_bytes_seen();
            b.listen(handler.clone()).await.unwrap();
            assert_eq!(*seen.borrow(), [1, 2, 3]);
            assert!(b.listen(handler).await.is_err());
        });
    }

    /// Frames sent to a dropped end are lost, not kept, and refused frames never go out.
    #[test]
    fn a_dropped_end_keeps_nothing() {
        block_on(async {
            let (a, b) = MemLink::pair();
            let wire = a.outgoing.clone();
            drop(b);
            for _ in 0..1000 {
                a.write(&frame(7)).await.unwrap();
            }
            assert!(wire.frames.borrow().is_empty());
            assert!(a.write(&[0; 4]).await.is_err());
        });
    }

    /// An end nobody listens to yet holds at most `WIRE_FRAMES` frames, however many are sent;
    /// once it listens it gets the first ones, in order.
    #[test]
    fn an_end_not_yet_listening_holds_a_bounded_number_of_frames() {
        block_on(async {
            let (a, b) = MemLink::pair();
            for i in 0..WIRE_FRAMES * 3 {
                a.write(&frame(i as u8)).await.unwrap();
            }
            assert_eq!(a.outgoing.frames.borrow().len(), WIRE_FRAMES);
            assert_eq!(a.get_stats_counters().tx_pkts, 3 * WIRE_FRAMES as u64);
            drop(a);
            let (seen, handler) = first_bytes_seen();
            b.listen(handler).await.unwrap();
            let expected: Vec<u8> = (0..WIRE_FRAMES).map(|i| i as u8).collect();
            assert_eq!(*seen.borrow(), expected);
        });
    }

    /// An end whose `listen` has ended (it was disconnected) keeps nothing sent to it.
    #[test]
    fn a_disconnected_end_keeps_nothing() {
        block_on(async {
            let (a, b) = MemLink::pair();
            b.disconnect().await;
            let handler = mirage_types::frame_handler(|_frame: Bytes| async {});
            b.listen(handler).await.unwrap();
            for _ in 0..1000 {
                a.write(&frame(7)).await.unwrap();
            }
            assert!(a.outgoing.frames.borrow().is_empty());
        });
    }
}
