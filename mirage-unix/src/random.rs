//! `Random` from a seeded cryptographic generator.

use mirage_types::Random;
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};
use std::cell::RefCell;

/// V1 `RANDOM` on Unix: a ChaCha-based generator seeded from the operating system (or from a
/// fixed seed, for reproducible runs).
#[derive(Debug)]
pub struct UnixRandom {
    generator: RefCell<StdRng>,
}

impl UnixRandom {
    /// A generator seeded from the operating system's entropy.
    pub fn new() -> Self {
        UnixRandom {
            generator: RefCell::new(StdRng::from_os_rng()),
        }
    }

    /// A generator that produces the same sequence for the same `seed`.
    pub fn with_seed(seed: u64) -> Self {
        UnixRandom {
            generator: RefCell::new(StdRng::seed_from_u64(seed)),
        }
    }
}

impl Default for UnixRandom {
    fn default() -> Self {
        Self::new()
    }
}

impl Random for UnixRandom {
    fn self_init(&self) {
        *self.generator.borrow_mut() = StdRng::from_os_rng();
    }

    fn fill_bytes(&self, buf: &mut [u8]) {
        self.generator.borrow_mut().fill_bytes(buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mirage_types::{INT_BOUND_LIMIT, RandomError};

    #[test]
    fn bounds_are_v1s() {
        let r = UnixRandom::new();
        assert!(matches!(r.int(0), Err(RandomError::InvalidBound { .. })));
        assert!(r.int(INT_BOUND_LIMIT).is_err());
        assert!(r.int32(0).is_err());
        assert!(r.int32(-1).is_err());
        for _ in 0..1000 {
            assert!(r.int(7).unwrap() < 7);
            assert!((0..3).contains(&r.int32(3).unwrap()));
        }
        assert_eq!(r.int(1), Ok(0));
    }

    #[test]
    fn draws_cover_the_range_evenly() {
        let r = UnixRandom::with_seed(7);
        let mut counts = [0u32; 10];
        for _ in 0..100_000 {
            counts[r.int(10).unwrap() as usize] += 1;
        }
        for count in counts {
            assert!((9_000..11_000).contains(&count), "{counts:?}");
        }
    }

    #[test]
    fn seeds_reproduce_and_self_init_reseeds() {
        let a = UnixRandom::with_seed(1);
        let b = UnixRandom::with_seed(1);
        let draws = |r: &UnixRandom| (0..8).map(|_| r.int(1000).unwrap()).collect::<Vec<_>>();
        assert_eq!(draws(&a), draws(&b));
        a.self_init();
        assert_ne!(draws(&a), draws(&b));
    }
}
