//! V1 `RANDOM`: uniformly distributed integers.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

use crate::ErrorKind;
use thiserror::Error;

/// The largest bound (exclusive) V1's `Random.int` accepts: 2^30.
pub const INT_BOUND_LIMIT: u32 = 1 << 30;

/// Why a random-number request was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum RandomError {
    /// V1 requires `0 < bound < 2^30` for `int` and `bound > 0` for `int32`.
    #[error("random bound {bound} is outside 1..{limit}")]
    InvalidBound {
        /// The bound that was passed.
        bound: i64,
        /// The first bound that is too large.
        limit: i64,
    },
}

impl RandomError {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            RandomError::InvalidBound { .. } => ErrorKind::InvalidInput,
        }
    }
}

/// V1 `RANDOM`: a generator of random numbers.
///
/// Backends supply bytes ([`Random::fill_bytes`]) and reseeding ([`Random::self_init`]); the
/// bounded integers of V1 are provided on top, without modulo bias.
pub trait Random {
    /// V1 `self_init`: reseed from the operating system's entropy.
    fn self_init(&self);

    /// Fills `buf` with random bytes.
    fn fill_bytes(&self, buf: &mut [u8]);

    /// A random `u32` over its whole range.
    fn next_u32(&self) -> u32 {
        let mut bytes = [0; 4];
        self.fill_bytes(&mut bytes);
        u32::from_le_bytes(bytes)
    }

    /// V1 `int bound`: uniform in `[0, bound)`, with `0 < bound < 2^30`.
    fn int(&self, bound: u32) -> Result<u32, RandomError> {
        if bound == 0 || bound >= INT_BOUND_LIMIT {
            return Err(RandomError::InvalidBound {
                bound: bound.into(),
                limit: INT_BOUND_LIMIT.into(),
            });
        }
        Ok(uniform_below(self, bound))
    }

    /// V1 `int32 bound`: uniform in `[0, bound)`, with `bound > 0`.
    fn int32(&self, bound: i32) -> Result<i32, RandomError> {
        if bound <= 0 {
            return Err(RandomError::InvalidBound {
                bound: bound.into(),
                limit: i64::from(i32::MAX) + 1,
            });
        }
        Ok(uniform_below(self, bound as u32) as i32)
    }
}

/// Draws uniformly from `[0, bound)` by rejecting the top, incomplete copy of the range.
fn uniform_below<R: Random + ?Sized>(random: &R, bound: u32) -> u32 {
    let zone = u32::MAX - (u32::MAX - bound + 1) % bound;
    loop {
        let candidate = random.next_u32();
        if candidate <= zone {
            return candidate % bound;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::cell::Cell;

    /// Counts upwards: a predictable stream of words.
    struct Counter(Cell<u32>);

    impl Random for Counter {
        fn self_init(&self) {
            self.0.set(0);
        }
        fn fill_bytes(&self, buf: &mut [u8]) {
            for chunk in buf.chunks_mut(4) {
                let word = self.0.get();
                self.0.set(word.wrapping_add(1));
                chunk.copy_from_slice(&word.to_le_bytes()[..chunk.len()]);
            }
        }
    }

    #[test]
    fn bounds_follow_v1() {
        let r = Counter(Cell::new(7));
        assert!(r.int(0).is_err());
        assert!(r.int(INT_BOUND_LIMIT).is_err());
        assert_eq!(r.int(INT_BOUND_LIMIT - 1), Ok(7));
        assert_eq!(r.int(5), Ok(3));
        assert!(r.int32(0).is_err());
        assert!(r.int32(-4).is_err());
        assert_eq!(r.int32(i32::MAX), Ok(9));
    }

    #[test]
    fn rejection_skips_the_biased_top() {
        // With bound 3, 2^32 - 1 lies in the incomplete last copy of 0..3 and is redrawn.
        let r = Counter(Cell::new(u32::MAX));
        assert_eq!(r.int(3), Ok(0));
        assert_eq!(r.0.get(), 1);
    }
}
