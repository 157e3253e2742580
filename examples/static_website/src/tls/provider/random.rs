//! The platform's random numbers as rustls's source, and as RustCrypto's RNG for ephemeral
//! keys.

use core::fmt;
use mirage_types::Random;
use rustls::crypto::{GetRandomFailed, SecureRandom};

/// A Mirage [`Random`] (the host's, or Xen's `RDRAND`) as rustls's randomness.
pub struct PlatformRandom<R>(pub R);

impl<R> fmt::Debug for PlatformRandom<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PlatformRandom")
    }
}

impl<R: Random + Send + Sync> SecureRandom for PlatformRandom<R> {
    fn fill(&self, buf: &mut [u8]) -> Result<(), GetRandomFailed> {
        self.0.fill_bytes(buf);
        Ok(())
    }
}

/// rustls's randomness as RustCrypto's RNG.
pub struct Rng<'a>(pub &'a dyn SecureRandom);

impl rand_core::RngCore for Rng<'_> {
    fn next_u32(&mut self) -> u32 {
        rand_core::impls::next_u32_via_fill(self)
    }

    fn next_u64(&mut self) -> u64 {
        rand_core::impls::next_u64_via_fill(self)
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        // The platform's source does not fail (it is `Random::fill_bytes`).
        let _ = self.0.fill(dest);
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.0
            .fill(dest)
            .map_err(|_| rand_core::Error::from(core::num::NonZeroU32::MIN))
    }
}

impl rand_core::CryptoRng for Rng<'_> {}
