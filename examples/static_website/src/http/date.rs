//! The `Date` header (RFC 9110, 5.6.7 and 6.6.1): an origin server with a clock sends it on
//! its answers, as `Sun, 06 Nov 1994 08:49:37 GMT`. Formatted once per second.

use alloc::rc::Rc;
use alloc::string::String;
use core::cell::RefCell;
use core::fmt::Write;
use mirage_types::{Clock, Tm};

const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `seconds` since the epoch in HTTP's date form (IMF-fixdate).
pub fn http_date(seconds: f64) -> String {
    let tm = Tm::from_unix_seconds(seconds);
    let mut text = String::with_capacity(29);
    // Writing to a String cannot fail; the indices are in range by `Tm`'s definition.
    let _ = write!(
        text,
        "{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT",
        DAYS[tm.tm_wday.rem_euclid(7) as usize],
        tm.tm_mday,
        MONTHS[tm.tm_mon.rem_euclid(12) as usize],
        tm.tm_year + 1900,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec
    );
    text
}

/// A clock's date, formatted again only when the second changes.
pub struct DateCache {
    clock: Rc<dyn Clock>,
    last: RefCell<(i64, String)>,
}

impl DateCache {
    /// Dates from `clock`.
    pub fn new(clock: Rc<dyn Clock>) -> Self {
        DateCache {
            clock,
            last: RefCell::new((i64::MIN, String::new())),
        }
    }

    /// The date now.
    pub fn now(&self) -> String {
        let seconds = self.clock.time();
        // The whole second (towards negative infinity; `f64::floor` needs `std`).
        let truncated = seconds as i64;
        let whole = truncated - i64::from((truncated as f64) > seconds);
        let mut last = self.last.borrow_mut();
        if last.0 != whole {
            *last = (whole, http_date(seconds));
        }
        last.1.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rfc_s_example_and_the_edges() {
        assert_eq!(http_date(784_111_777.0), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(http_date(0.0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http_date(951_782_400.5), "Tue, 29 Feb 2000 00:00:00 GMT");
    }
}
