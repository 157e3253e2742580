//! The `Range` request header (RFC 9110, section 14), for one range of bytes.

/// What a `Range` header asks of a representation of `size` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeRequest {
    /// The whole representation: no header, one the server ignores (another unit, a syntax
    /// error, several ranges), as RFC 9110 allows.
    Whole,
    /// The bytes `start..=end`, within the representation (answered with 206).
    Part {
        /// The first byte.
        start: u64,
        /// The last byte (inclusive, as `Content-Range` says it).
        end: u64,
    },
    /// A well-formed range that no byte of the representation satisfies (answered with 416).
    Unsatisfiable,
}

/// Parses `header` (`bytes=0-99`, `bytes=100-`, `bytes=-500`) against `size`.
pub fn parse(header: Option<&str>, size: u64) -> RangeRequest {
    let Some(header) = header else {
        return RangeRequest::Whole;
    };
    let Some((unit, ranges)) = header.split_once('=') else {
        return RangeRequest::Whole;
    };
    if !unit.trim().eq_ignore_ascii_case("bytes") || ranges.contains(',') {
        return RangeRequest::Whole;
    }
    let Some((first, last)) = ranges.trim().split_once('-') else {
        return RangeRequest::Whole;
    };
    let number = |text: &str| -> Option<u64> {
        (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()))
            .then(|| text.parse().ok())
            .flatten()
    };
    match (first.is_empty(), last.is_empty()) {
        // `-N`: the last N bytes.
        (true, false) => match number(last) {
            Some(0) => RangeRequest::Unsatisfiable,
            Some(suffix) if size > 0 => RangeRequest::Part {
                start: size.saturating_sub(suffix),
                end: size - 1,
            },
            Some(_) => RangeRequest::Unsatisfiable,
            None => RangeRequest::Whole,
        },
        // `N-` or `N-M`.
        (false, _) => {
            let Some(start) = number(first) else {
                return RangeRequest::Whole;
            };
            let end = if last.is_empty() {
                u64::MAX
            } else {
                match number(last) {
                    Some(end) if end >= start => end,
                    _ => return RangeRequest::Whole,
                }
            };
            if start >= size {
                RangeRequest::Unsatisfiable
            } else {
                RangeRequest::Part {
                    start,
                    end: end.min(size - 1),
                }
            }
        }
        (true, true) => RangeRequest::Whole,
    }
}

#[cfg(test)]
mod tests {
    use super::{RangeRequest, parse};
    #[allow(unused_imports)]
    use crate::test_prelude::*;
    use proptest::prelude::*;

    fn part(start: u64, end: u64) -> RangeRequest {
        RangeRequest::Part { start, end }
    }

    #[test]
    fn the_forms_rfc_9110_gives() {
        assert_eq!(parse(None, 10), RangeRequest::Whole);
        assert_eq!(parse(Some("bytes=0-4"), 10), part(0, 4));
        assert_eq!(parse(Some("bytes=5-"), 10), part(5, 9));
        assert_eq!(parse(Some("bytes=-3"), 10), part(7, 9));
        assert_eq!(parse(Some("bytes=-30"), 10), part(0, 9));
        assert_eq!(parse(Some("bytes=8-100"), 10), part(8, 9));
        assert_eq!(parse(Some("Bytes = 1-1"), 10), part(1, 1));
        assert_eq!(parse(Some("bytes=10-"), 10), RangeRequest::Unsatisfiable);
        assert_eq!(parse(Some("bytes=-0"), 10), RangeRequest::Unsatisfiable);
        assert_eq!(parse(Some("bytes=0-"), 0), RangeRequest::Unsatisfiable);
        assert_eq!(parse(Some("bytes=-5"), 0), RangeRequest::Unsatisfiable);
        // Ignored: another unit, bad syntax, an inverted range, several ranges.
        for ignored in [
            "items=0-1",
            "bytes",
            "bytes=",
            "bytes=-",
            "bytes=a-b",
            "bytes=5-2",
            "bytes=+1-2",
            "bytes=0-1,3-4",
            "bytes=99999999999999999999-",
        ] {
            assert_eq!(parse(Some(ignored), 10), RangeRequest::Whole, "{ignored}");
        }
    }

    proptest! {
        /// Whatever the header, a part lies inside the representation.
        #[test]
        fn parts_stay_inside(header in "\\PC{0,24}", size in 0u64..1_000_000) {
            if let RangeRequest::Part { start, end } = parse(Some(&header), size) {
                prop_assert!(start <= end && end < size);
            }
        }

        #[test]
        fn well_formed_ranges(start in 0u64..2000, len in 0u64..2000, size in 0u64..2000) {
            let header = format!("bytes={start}-{}", start + len);
            let expected = if start >= size {
                RangeRequest::Unsatisfiable
            } else {
                part(start, (start + len).min(size - 1))
            };
            prop_assert_eq!(parse(Some(&header), size), expected);
        }
    }
}
