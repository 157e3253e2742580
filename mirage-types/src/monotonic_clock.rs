//! Mirage 4 `MCLOCK`: a monotonic clock for measuring time.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

use core::time::Duration;

/// Mirage 4 `Mirage_clock.MCLOCK`: nanoseconds since an arbitrary start (boot, or the
/// process's start), never going back and unaffected by changes to the wall clock. For
/// measuring intervals and timeouts; [`crate::Clock`] is the wall clock, [`crate::Time`]
/// sleeps.
///
/// ```
/// use mirage_types::MonotonicClock;
/// use core::time::Duration;
///
/// /// Runs `work` and says how long it took.
/// fn timed<M: MonotonicClock>(clock: &M, work: impl FnOnce()) -> Duration {
///     let start = clock.elapsed();
///     work();
///     clock.elapsed().saturating_sub(start)
/// }
/// ```
pub trait MonotonicClock {
    /// Mirage 4 `elapsed_ns`: nanoseconds since the clock's start; each call returns at
    /// least what the one before it did.
    fn elapsed_ns(&self) -> u64;

    /// Mirage 4 `period_ns`: the clock's resolution in nanoseconds, where known.
    fn period_ns(&self) -> Option<u64> {
        None
    }

    /// [`MonotonicClock::elapsed_ns`] as a [`Duration`].
    fn elapsed(&self) -> Duration {
        Duration::from_nanos(self.elapsed_ns())
    }
}
