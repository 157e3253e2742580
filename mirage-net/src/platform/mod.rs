//! What a stack takes from the platform it runs on: sleeps, a monotonic clock and random
//! numbers (the `Random`, `Time` and `Mclock` arguments of MirageOS's stack functor).

#[cfg(feature = "std")]
mod tokio_platform;

#[allow(unused_imports)]
use crate::alloc_prelude::*;
use alloc::rc::Rc;
use core::future::Future;
use core::pin::Pin;
use core::time::Duration;
use mirage_types::{MonotonicClock, Random, Time};

/// A stack's platform, cheap to clone: on Unix [`StackPlatform::tokio`] (tokio's timers,
/// the process's monotonic clock, the system's random numbers), in a unikernel the devices
/// its runtime gives ([`StackPlatform::new`]).
///
/// ```
/// use mirage_net::StackPlatform;
/// use mirage_types::MonotonicClock;
///
/// struct Fixed;
/// impl MonotonicClock for Fixed {
///     fn elapsed_ns(&self) -> u64 { 7 }
/// }
/// struct Instant;
/// #[mirage_types::async_trait(?Send)]
/// impl mirage_types::Time for Instant {
///     async fn sleep(&self, _: std::time::Duration) {}
/// }
/// struct Counter(std::cell::Cell<u8>);
/// impl mirage_types::Random for Counter {
///     fn self_init(&self) {}
///     fn fill_bytes(&self, buf: &mut [u8]) {
///         buf.fill(self.0.replace(self.0.get() + 1));
///     }
/// }
/// let platform = StackPlatform::new(Instant, Fixed, Counter(Default::default()));
/// assert_eq!(platform.now().as_nanos(), 7);
/// ```
#[derive(Clone)]
pub struct StackPlatform(Rc<Parts>);

struct Parts {
    time: Box<dyn Time>,
    clock: Box<dyn MonotonicClock>,
    random: Box<dyn Random>,
}

impl StackPlatform {
    /// A platform of `time` (the stack's timers), `clock` (its notion of now: it must never
    /// go back) and `random` (TCP's initial sequence numbers, ephemeral ports).
    pub fn new(
        time: impl Time + 'static,
        clock: impl MonotonicClock + 'static,
        random: impl Random + 'static,
    ) -> Self {
        StackPlatform(Rc::new(Parts {
            time: Box::new(time),
            clock: Box::new(clock),
            random: Box::new(random),
        }))
    }

    /// Tokio's timers, the process's monotonic clock (`std::time::Instant`) and the
    /// system's random numbers. The timers need a tokio runtime with time enabled (as
    /// `mirage_unix::run` has). One per thread, shared.
    #[cfg(feature = "std")]
    pub fn tokio() -> Self {
        std::thread_local! {
            static TOKIO: StackPlatform = StackPlatform::new(
                tokio_platform::TokioTime,
                tokio_platform::ProcessClock,
                tokio_platform::SystemRandom,
            );
        }
        TOKIO.with(Clone::clone)
    }

    /// The monotonic clock's reading.
    pub fn now(&self) -> Duration {
        self.0.clock.elapsed()
    }

    /// A future that resolves `duration` from now.
    pub fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + '_>> {
        self.0.time.sleep(duration)
    }

    /// A future that resolves at `deadline` on the monotonic clock.
    pub fn sleep_until(&self, deadline: Duration) -> Pin<Box<dyn Future<Output = ()> + '_>> {
        self.sleep(deadline.saturating_sub(self.now()))
    }

    /// As [`StackPlatform::sleep_until`], holding the platform itself (for a timer kept
    /// beside what it times).
    #[cfg(any(feature = "socket", feature = "direct"))]
    pub(crate) fn owned_sleep_until(
        &self,
        deadline: Duration,
    ) -> Pin<Box<dyn Future<Output = ()> + 'static>> {
        let platform = self.clone();
        Box::pin(async move { platform.sleep_until(deadline).await })
    }

    /// `future`'s output, or `None` once `limit` has passed first.
    pub async fn timeout<F: Future>(&self, limit: Duration, future: F) -> Option<F::Output> {
        let deadline = self.now() + limit;
        self.timeout_at(deadline, future).await
    }

    /// `future`'s output, or `None` once `deadline` has passed first.
    pub async fn timeout_at<F: Future>(&self, deadline: Duration, future: F) -> Option<F::Output> {
        let future = core::pin::pin!(future);
        let timer = self.sleep_until(deadline);
        match futures::future::select(future, timer).await {
            futures::future::Either::Left((output, _)) => Some(output),
            futures::future::Either::Right(((), _)) => None,
        }
    }

    /// 64 random bits.
    pub fn random_u64(&self) -> u64 {
        let mut bytes = [0; 8];
        self.0.random.fill_bytes(&mut bytes);
        u64::from_le_bytes(bytes)
    }
}

impl core::fmt::Debug for StackPlatform {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("StackPlatform")
            .field("now", &self.now())
            .finish_non_exhaustive()
    }
}
