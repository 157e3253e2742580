//! V1 `NETWORK`: an Ethernet interface that sends and receives whole frames.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

#[cfg(feature = "std")]
use crate::IoError;
use crate::{Device, ErrorKind, MacAddr};
use alloc::rc::Rc;
use async_trait::async_trait;
use bytes::Bytes;
use futures::future::LocalBoxFuture;
use thiserror::Error;

/// Errors of the link layer (V1 `NETWORK.error` / `ETHIF.error`).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum NetError {
    /// V1 `Unknown`: any other failure, described.
    #[error("network error: {0}")]
    Unknown(String),
    /// V1 `Unimplemented`.
    #[error("operation not implemented by this network device")]
    Unimplemented,
    /// V1 `Disconnected`: the interface was disconnected.
    #[error("network device is disconnected")]
    Disconnected,
    /// A frame longer than the interface's MTU plus the Ethernet header, or shorter than a
    /// header.
    #[error("frame of {len} bytes is not a valid length for this interface (at most {max})")]
    InvalidLength {
        /// The frame's length.
        len: usize,
        /// The longest frame the interface accepts.
        max: usize,
    },
    /// The device did not answer within the time allowed (a silent backend or peer).
    #[error("the network device did not answer within {0:?}")]
    Timeout(core::time::Duration),
    /// The operating system reported an error (the error is kept as `source()`).
    #[cfg(feature = "std")]
    #[error("network I/O failed: {0}")]
    Io(#[source] IoError),
}

impl NetError {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            NetError::Unknown(_) => ErrorKind::Other,
            NetError::Unimplemented => ErrorKind::Unimplemented,
            NetError::Disconnected => ErrorKind::Disconnected,
            NetError::InvalidLength { .. } => ErrorKind::InvalidInput,
            NetError::Timeout(_) => ErrorKind::Timeout,
            #[cfg(feature = "std")]
            NetError::Io(error) => error.kind(),
        }
    }
}

/// V1 `NETWORK.stats`: traffic counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// Bytes received.
    pub rx_bytes: u64,
    /// Frames received.
    pub rx_pkts: u64,
    /// Bytes sent.
    pub tx_bytes: u64,
    /// Frames sent.
    pub tx_pkts: u64,
}

/// V1's traffic counters as a device keeps them: a `Cell`, updated from `&self`.
#[derive(Debug, Default)]
pub struct StatsCounter(core::cell::Cell<Stats>);

impl StatsCounter {
    /// Counts a received frame of `len` bytes.
    pub fn received(&self, len: usize) {
        let mut stats = self.0.get();
        stats.rx_bytes += len as u64;
        stats.rx_pkts += 1;
        self.0.set(stats);
    }

    /// Counts a sent frame of `len` bytes.
    pub fn sent(&self, len: usize) {
        let mut stats = self.0.get();
        stats.tx_bytes += len as u64;
        stats.tx_pkts += 1;
        self.0.set(stats);
    }

    /// The counters now (V1 `get_stats_counters`).
    pub fn get(&self) -> Stats {
        self.0.get()
    }

    /// Zeroes the counters (V1 `reset_stats_counters`).
    pub fn reset(&self) {
        self.0.set(Stats::default());
    }
}

/// A handler for received frames or packets: V1's `buffer -> unit io`.
pub type FrameHandler = Rc<dyn Fn(Bytes) -> LocalBoxFuture<'static, ()>>;

/// Wraps an async closure as a [`FrameHandler`].
pub fn frame_handler<F, Fut>(handler: F) -> FrameHandler
where
    F: Fn(Bytes) -> Fut + 'static,
    Fut: core::future::Future<Output = ()> + 'static,
{
    Rc::new(move |frame| Box::pin(handler(frame)))
}

/// Wraps a closure that deals with each frame as it is called (nothing to await) as a
/// [`FrameHandler`]. Unlike [`frame_handler`] it allocates nothing per frame: the future it
/// returns is empty, and boxing an empty value takes no memory.
///
/// ```
/// use mirage_types::{FrameHandler, frame_handler_now};
/// use std::cell::Cell;
/// use std::rc::Rc;
///
/// let bytes = Rc::new(Cell::new(0));
/// let count = bytes.clone();
/// let handler: FrameHandler = frame_handler_now(move |frame| count.set(count.get() + frame.len()));
/// # let _ = handler(bytes::Bytes::from_static(&[0; 60]));
/// # assert_eq!(bytes.get(), 60);
/// ```
pub fn frame_handler_now<F>(handler: F) -> FrameHandler
where
    F: Fn(Bytes) + 'static,
{
    Rc::new(move |frame| {
        handler(frame);
        Box::pin(Handled)
    })
}

/// The future of a frame handled already: empty, so boxing it allocates nothing.
struct Handled;

impl core::future::Future for Handled {
    type Output = ();

    fn poll(
        self: core::pin::Pin<&mut Self>,
        _: &mut core::task::Context<'_>,
    ) -> core::task::Poll<()> {
        core::task::Poll::Ready(())
    }
}

/// V1 `NETWORK`: raw Ethernet frames in and out.
///
/// ```
/// use mirage_types::{Network, frame_handler};
/// use std::cell::Cell;
/// use std::rc::Rc;
///
/// /// Counts the broadcast frames a device receives until it is disconnected.
/// async fn count_broadcasts<N: Network>(net: &N) -> u64 {
///     let seen = Rc::new(Cell::new(0));
///     let count = seen.clone();
///     let _ = net
///         .listen(frame_handler(move |frame| {
///             let count = count.clone();
///             async move {
///                 if frame.starts_with(&[0xff; 6]) {
///                     count.set(count.get() + 1);
///                 }
///             }
///         }))
///         .await;
///     seen.get()
/// }
/// ```
#[async_trait(?Send)]
pub trait Network: Device {
    /// V1 `write`: sends one frame (destination MAC first).
    async fn write(&self, frame: &[u8]) -> Result<(), NetError>;

    /// V1 `writev`: sends the concatenation of `parts` as one frame.
    async fn writev(&self, parts: &[&[u8]]) -> Result<(), NetError> {
        self.write(&parts.concat()).await
    }

    /// Sends one frame the caller no longer needs: devices that keep frames (an in-memory
    /// link, a ring) take it without copying.
    async fn write_owned(&self, frame: Bytes) -> Result<(), NetError> {
        self.write(&frame).await
    }

    /// Sends `frames` in order, each as [`Network::write_owned`] would: a frame refused
    /// (too long, say) is dropped and the rest still go. Returns the first refusal.
    ///
    /// A stack with several frames ready hands them over at once, so a device can take
    /// them in one go (one lock, one notification of its peer) instead of one call each.
    async fn write_many(&self, frames: Vec<Bytes>) -> Result<(), NetError> {
        let mut outcome = Ok(());
        for frame in frames {
            // `and` keeps the first refusal.
            outcome = outcome.and(self.write_owned(frame).await);
        }
        outcome
    }

    /// V1 `listen`: calls `handler` on every received frame, in order, until the device is
    /// disconnected (then returns `Ok`).
    async fn listen(&self, handler: FrameHandler) -> Result<(), NetError>;

    /// V1 `mac`: the interface's own address.
    fn mac(&self) -> MacAddr;

    /// The largest IP packet a frame can carry (1500 on Ethernet).
    fn mtu(&self) -> usize;

    /// V1 `get_stats_counters`.
    fn get_stats_counters(&self) -> Stats;

    /// V1 `reset_stats_counters`.
    fn reset_stats_counters(&self);
}
