//! The platform's wall clock as rustls's time source.

use core::fmt;
use core::time::Duration;
use mirage_types::Clock;
use rustls::pki_types::UnixTime;
use rustls::time_provider::TimeProvider;

/// A Mirage [`Clock`] (the host's, or Xen's wall clock) as rustls's time.
pub struct ClockTime<C>(pub C);

impl<C> fmt::Debug for ClockTime<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClockTime")
    }
}

impl<C: Clock + Send + Sync> TimeProvider for ClockTime<C> {
    fn current_time(&self) -> Option<UnixTime> {
        // A clock before the epoch or out of range has no answer.
        Duration::try_from_secs_f64(self.0.time())
            .ok()
            .map(UnixTime::since_unix_epoch)
    }
}
