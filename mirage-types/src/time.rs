//! V1 `TIME`: sleeping.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

use async_trait::async_trait;
use core::time::Duration;

/// V1 `TIME`: a source of sleeps.
///
/// V1's `sleep : float -> unit io` took seconds as a float (the tutorial's `OS.Time.sleep 1.0`);
/// here the primary form takes a [`Duration`] and [`Time::sleep_secs`] keeps the float form.
#[async_trait(?Send)]
pub trait Time {
    /// Suspends the calling task for `duration`; other tasks keep running.
    async fn sleep(&self, duration: Duration);

    /// V1's `sleep seconds`: negative or NaN values sleep for zero, values too large for a
    /// [`Duration`] sleep for [`Duration::MAX`].
    async fn sleep_secs(&self, seconds: f64) {
        self.sleep(duration_from_secs(seconds)).await
    }
}

/// Converts V1's float seconds to a [`Duration`], clamping instead of panicking.
pub fn duration_from_secs(seconds: f64) -> Duration {
    if seconds.is_nan() || seconds <= 0.0 {
        Duration::ZERO
    } else {
        Duration::try_from_secs_f64(seconds).unwrap_or(Duration::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_seconds_clamp_instead_of_panicking() {
        assert_eq!(duration_from_secs(1.5), Duration::from_millis(1500));
        assert_eq!(duration_from_secs(-3.0), Duration::ZERO);
        assert_eq!(duration_from_secs(f64::NAN), Duration::ZERO);
        assert_eq!(duration_from_secs(f64::INFINITY), Duration::MAX);
        assert_eq!(duration_from_secs(1e300), Duration::MAX);
    }
}
