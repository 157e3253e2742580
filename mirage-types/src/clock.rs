//! V1 `CLOCK`: wall-clock time and its calendar form.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

/// V1 `CLOCK.tm`, the fields of POSIX `struct tm` (and OCaml's `Unix.tm`), always in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tm {
    /// Seconds, 0..=59.
    pub tm_sec: i32,
    /// Minutes, 0..=59.
    pub tm_min: i32,
    /// Hours, 0..=23.
    pub tm_hour: i32,
    /// Day of the month, 1..=31.
    pub tm_mday: i32,
    /// Month, 0..=11 (January is 0).
    pub tm_mon: i32,
    /// Year minus 1900.
    pub tm_year: i32,
    /// Day of the week, 0..=6 (Sunday is 0).
    pub tm_wday: i32,
    /// Day of the year, 0..=365 (January 1st is 0).
    pub tm_yday: i32,
    /// Daylight saving time in effect: always `false` for UTC.
    pub tm_isdst: bool,
}

const SECONDS_PER_DAY: i64 = 86_400;

impl Tm {
    /// V1's `gmtime`: the UTC calendar time of `seconds` since the Unix epoch. Fractions of a
    /// second are dropped towards negative infinity (as POSIX does for `time_t`); NaN is the
    /// epoch, and values beyond `i64` seconds saturate. Years that do not fit `tm_year`
    /// saturate too.
    pub fn from_unix_seconds(seconds: f64) -> Tm {
        // `as` saturates and maps NaN to 0.
        let whole = floor_to_i64(seconds);
        let days = whole.div_euclid(SECONDS_PER_DAY);
        let second_of_day = whole.rem_euclid(SECONDS_PER_DAY);
        let (year, month, mday) = civil_from_days(days);
        let yday = days - days_from_civil(year, 1, 1);
        Tm {
            tm_sec: (second_of_day % 60) as i32,
            tm_min: (second_of_day / 60 % 60) as i32,
            tm_hour: (second_of_day / 3600) as i32,
            tm_mday: mday as i32,
            tm_mon: month as i32 - 1,
            tm_year: (year - 1900).clamp(i32::MIN as i64, i32::MAX as i64) as i32,
            // 1970-01-01 was a Thursday (4).
            tm_wday: (days + 4).rem_euclid(7) as i32,
            tm_yday: yday as i32,
            tm_isdst: false,
        }
    }

    /// The inverse of [`Tm::from_unix_seconds`]: seconds since the Unix epoch of this UTC
    /// calendar time (from `tm_year`, `tm_mon`, `tm_mday`, `tm_hour`, `tm_min`, `tm_sec`;
    /// the weekday and day of the year are not read).
    pub fn to_unix_seconds(&self) -> i64 {
        let days = days_from_civil(
            i64::from(self.tm_year) + 1900,
            i64::from(self.tm_mon) + 1,
            i64::from(self.tm_mday),
        );
        days * SECONDS_PER_DAY
            + i64::from(self.tm_hour) * 3600
            + i64::from(self.tm_min) * 60
            + i64::from(self.tm_sec)
    }
}

/// `seconds.floor()` as an `i64`, saturating, NaN as 0, without `std`'s `floor`.
fn floor_to_i64(seconds: f64) -> i64 {
    // `as` truncates toward zero and saturates; step down for negative fractions.
    let truncated = seconds as i64;
    if (truncated as f64) > seconds {
        truncated.saturating_sub(1)
    } else {
        truncated
    }
}

/// Splits a day count since 1970-01-01 into (year, month 1..=12, day 1..=31) in the proleptic
/// Gregorian calendar. Years are counted from March so that February's leap day ends the year.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let shifted = days + 719_468; // days from 0000-03-01 to 1970-01-01
    let era = shifted.div_euclid(146_097); // 400-year cycles
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The inverse of [`civil_from_days`].
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// V1 `CLOCK`: the wall clock.
///
/// Not a device and not asynchronous, as in V1.
pub trait Clock {
    /// Seconds since the Unix epoch, with a fractional part.
    fn time(&self) -> f64;

    /// The UTC calendar form of `seconds` since the epoch (see [`Tm::from_unix_seconds`]).
    fn gmtime(&self, seconds: f64) -> Tm {
        Tm::from_unix_seconds(seconds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn tm(year: i32, mon: i32, mday: i32, hms: (i32, i32, i32), wday: i32, yday: i32) -> Tm {
        Tm {
            tm_sec: hms.2,
            tm_min: hms.1,
            tm_hour: hms.0,
            tm_mday: mday,
            tm_mon: mon,
            tm_year: year - 1900,
            tm_wday: wday,
            tm_yday: yday,
            tm_isdst: false,
        }
    }

    #[test]
    fn known_timestamps() {
        let cases = [
            (0.0, tm(1970, 0, 1, (0, 0, 0), 4, 0)),
            (0.999, tm(1970, 0, 1, (0, 0, 0), 4, 0)),
            (-1.0, tm(1969, 11, 31, (23, 59, 59), 3, 364)),
            (-0.5, tm(1969, 11, 31, (23, 59, 59), 3, 364)),
            (951_782_400.0, tm(2000, 1, 29, (0, 0, 0), 2, 59)), // leap day, 400-year rule
            (951_868_800.0, tm(2000, 2, 1, (0, 0, 0), 3, 60)),
            (4_107_456_000.0, tm(2100, 1, 28, (0, 0, 0), 0, 58)),
            (4_107_542_400.0, tm(2100, 2, 1, (0, 0, 0), 1, 59)), // 2100 is not a leap year
            (1_078_099_199.0, tm(2004, 1, 29, (23, 59, 59), 0, 59)),
            (1_234_567_890.0, tm(2009, 1, 13, (23, 31, 30), 5, 43)),
            (2_147_483_647.0, tm(2038, 0, 19, (3, 14, 7), 2, 18)),
            (1_735_689_599.0, tm(2024, 11, 31, (23, 59, 59), 2, 365)), // last day of a leap year
            (-2_208_988_800.0, tm(1900, 0, 1, (0, 0, 0), 1, 0)),
        ];
        for (seconds, expected) in cases {
            assert_eq!(Tm::from_unix_seconds(seconds), expected, "at {seconds}");
        }
    }

    #[test]
    fn hostile_inputs_do_not_panic() {
        assert_eq!(Tm::from_unix_seconds(f64::NAN), Tm::from_unix_seconds(0.0));
        let far = Tm::from_unix_seconds(f64::INFINITY);
        assert!(far.tm_year > 0);
        let past = Tm::from_unix_seconds(f64::NEG_INFINITY);
        assert!(past.tm_year < 0);
    }

    proptest! {
        #[test]
        fn fields_stay_in_range_and_round_trip(seconds in -1i64 << 40..1i64 << 40) {
            prop_assert_eq!(Tm::from_unix_seconds(seconds as f64).to_unix_seconds(), seconds);
            let t = Tm::from_unix_seconds(seconds as f64);
            prop_assert!((0..60).contains(&t.tm_sec));
            prop_assert!((0..60).contains(&t.tm_min));
            prop_assert!((0..24).contains(&t.tm_hour));
            prop_assert!((1..=31).contains(&t.tm_mday));
            prop_assert!((0..12).contains(&t.tm_mon));
            prop_assert!((0..7).contains(&t.tm_wday));
            prop_assert!((0..366).contains(&t.tm_yday));
            let days = days_from_civil(
                i64::from(t.tm_year) + 1900,
                i64::from(t.tm_mon) + 1,
                i64::from(t.tm_mday),
            );
            let back = days * SECONDS_PER_DAY
                + i64::from(t.tm_hour) * 3600
                + i64::from(t.tm_min) * 60
                + i64::from(t.tm_sec);
            prop_assert_eq!(back, seconds);
        }
    }
}
