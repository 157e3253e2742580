//! `MonotonicClock` on the host's monotonic clock.

use mirage_types::MonotonicClock;
use std::sync::OnceLock;
use std::time::Instant;

/// Mirage 4 `MCLOCK` on Unix: the host's monotonic clock (`CLOCK_MONOTONIC`, through
/// [`Instant`]), counted from the first time any `UnixMonotonicClock` in the process is
/// read. Never goes back; unaffected by changes to the wall clock.
///
/// ```
/// use mirage_types::MonotonicClock;
/// use mirage_unix::UnixMonotonicClock;
///
/// let clock = UnixMonotonicClock;
/// let before = clock.elapsed_ns();
/// std::thread::sleep(std::time::Duration::from_millis(2));
/// assert!(clock.elapsed_ns() >= before + 2_000_000);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct UnixMonotonicClock;

/// The instant every `UnixMonotonicClock` counts from.
fn start() -> Instant {
    static START: OnceLock<Instant> = OnceLock::new();
    *START.get_or_init(Instant::now)
}

impl MonotonicClock for UnixMonotonicClock {
    fn elapsed_ns(&self) -> u64 {
        let start = start();
        u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    fn period_ns(&self) -> Option<u64> {
        let mut resolution = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: clock_getres writes the struct it is given.
        let ok = unsafe { libc::clock_getres(libc::CLOCK_MONOTONIC, &mut resolution) } == 0;
        ok.then(|| resolution.tv_sec as u64 * 1_000_000_000 + resolution.tv_nsec as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_goes_back_and_counts_real_time() {
        let clock = UnixMonotonicClock;
        let mut last = clock.elapsed_ns();
        for _ in 0..10_000 {
            let now = clock.elapsed_ns();
            assert!(now >= last);
            last = now;
        }
        let before = clock.elapsed();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let slept = clock.elapsed() - before;
        assert!(slept >= std::time::Duration::from_millis(20), "{slept:?}");
        assert!(slept < std::time::Duration::from_secs(5), "{slept:?}");
        assert!(matches!(clock.period_ns(), Some(1..=1_000_000)));
    }
}
