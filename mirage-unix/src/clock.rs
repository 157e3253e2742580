//! `Clock` on the host's wall clock.

use mirage_types::Clock;
use std::time::{SystemTime, UNIX_EPOCH};

/// V1 `CLOCK` on Unix: `time` reads the system's wall clock; `gmtime` is the UTC calendar.
#[derive(Debug, Clone, Copy, Default)]
pub struct UnixClock;

impl Clock for UnixClock {
    fn time(&self) -> f64 {
        match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(since) => since.as_secs_f64(),
            Err(before) => -before.duration().as_secs_f64(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mirage_types::Tm;

    #[test]
    fn time_is_now_and_gmtime_is_utc() {
        let clock = UnixClock;
        let from_std = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs_f64();
        assert!((clock.time() - from_std).abs() < 5.0);
        // 2016-02-29 12:00:00 UTC, a Monday and the 60th day of a leap year.
        let tm = clock.gmtime(1_456_747_200.0);
        assert_eq!(
            tm,
            Tm {
                tm_sec: 0,
                tm_min: 0,
                tm_hour: 12,
                tm_mday: 29,
                tm_mon: 1,
                tm_year: 116,
                tm_wday: 1,
                tm_yday: 59,
                tm_isdst: false,
            }
        );
    }
}
