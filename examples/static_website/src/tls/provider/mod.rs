//! A rustls crypto provider without `std` or C: RustCrypto's primitives, with randomness
//! from the platform's [`Random`] and time from its [`Clock`]. What the unikernel's HTTPS
//! runs on (rustls's own providers need the host: `ring` reads the kernel's `getrandom`).
//!
//! TLS 1.3 only: AES-128-GCM and ChaCha20-Poly1305 with SHA-256, key exchange by X25519
//! or P-256, and an ECDSA P-256 server key (as `make-test-cert.sh` makes). No client
//! certificates are verified (the site asks for none).

mod aead;
mod hash;
mod hmac;
mod kx;
mod random;
mod sign;
mod time;

pub use random::PlatformRandom;
pub use time::ClockTime;

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec;
use mirage_types::{Clock, Random};
use rustls::crypto::tls13::HkdfUsingHmac;
use rustls::crypto::{CryptoProvider, SupportedKxGroup, WebPkiSupportedAlgorithms};
use rustls::time_provider::TimeProvider;
use rustls::{CipherSuite, CipherSuiteCommon, SupportedCipherSuite, Tls13CipherSuite};

/// TLS_AES_128_GCM_SHA256.
pub static TLS13_AES_128_GCM_SHA256: SupportedCipherSuite =
    SupportedCipherSuite::Tls13(&Tls13CipherSuite {
        common: CipherSuiteCommon {
            suite: CipherSuite::TLS13_AES_128_GCM_SHA256,
            hash_provider: &hash::Sha256,
            // Records under one key before it must change (RFC 8446, 5.5).
            confidentiality_limit: 1 << 24,
        },
        hkdf_provider: &HkdfUsingHmac(&hmac::HmacSha256),
        aead_alg: &aead::AES_128_GCM,
        quic: None,
    });

/// TLS_CHACHA20_POLY1305_SHA256.
pub static TLS13_CHACHA20_POLY1305_SHA256: SupportedCipherSuite =
    SupportedCipherSuite::Tls13(&Tls13CipherSuite {
        common: CipherSuiteCommon {
            suite: CipherSuite::TLS13_CHACHA20_POLY1305_SHA256,
            hash_provider: &hash::Sha256,
            confidentiality_limit: u64::MAX,
        },
        hkdf_provider: &HkdfUsingHmac(&hmac::HmacSha256),
        aead_alg: &aead::CHACHA20_POLY1305,
        quic: None,
    });

/// No client certificates are verified, so no verification algorithms.
const NO_CLIENT_CERTIFICATES: WebPkiSupportedAlgorithms = WebPkiSupportedAlgorithms {
    all: &[],
    mapping: &[],
};

/// The provider, drawing its randomness from `random`.
///
/// rustls keeps its randomness and key exchange groups as `'static` references: they are
/// allocated once here and live as long as the program (make one provider per server).
pub fn provider<R: Random + Send + Sync + 'static>(random: R) -> CryptoProvider {
    let random: &'static PlatformRandom<R> = Box::leak(Box::new(PlatformRandom(random)));
    let x25519: &'static dyn SupportedKxGroup = Box::leak(Box::new(kx::X25519(random)));
    let p256: &'static dyn SupportedKxGroup = Box::leak(Box::new(kx::P256(random)));
    CryptoProvider {
        cipher_suites: vec![TLS13_AES_128_GCM_SHA256, TLS13_CHACHA20_POLY1305_SHA256],
        kx_groups: vec![x25519, p256],
        signature_verification_algorithms: NO_CLIENT_CERTIFICATES,
        secure_random: random,
        key_provider: &sign::EcdsaP256Keys,
    }
}

/// The platform's wall clock as rustls's time source.
pub fn time<C: Clock + Send + Sync + 'static>(clock: C) -> Arc<dyn TimeProvider> {
    Arc::new(ClockTime(clock))
}
