//! Key exchange: X25519 (RustCrypto's `x25519-dalek`) and P-256 ECDH (`p256`), each key
//! pair fresh per handshake from the platform's random numbers.

use super::random::Rng;
use alloc::boxed::Box;
use alloc::vec::Vec;
use core::fmt;
use rustls::crypto::{ActiveKeyExchange, SecureRandom, SharedSecret, SupportedKxGroup};
use rustls::{Error, NamedGroup, PeerMisbehaved};

/// X25519, with keys from `random`.
pub struct X25519(pub &'static dyn SecureRandom);

/// P-256 (secp256r1), with keys from `random`.
pub struct P256(pub &'static dyn SecureRandom);

impl fmt::Debug for X25519 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("X25519")
    }
}

impl fmt::Debug for P256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("P256")
    }
}

/// A peer's key share that is not a point of the group.
fn bad_share() -> Error {
    Error::PeerMisbehaved(PeerMisbehaved::InvalidKeyShare)
}

impl SupportedKxGroup for X25519 {
    fn start(&self) -> Result<Box<dyn ActiveKeyExchange>, Error> {
        let mut secret = [0u8; 32];
        self.0.fill(&mut secret)?;
        let secret = x25519_dalek::StaticSecret::from(secret);
        let public = x25519_dalek::PublicKey::from(&secret);
        Ok(Box::new(X25519Exchange { secret, public }))
    }

    fn name(&self) -> NamedGroup {
        NamedGroup::X25519
    }
}

struct X25519Exchange {
    secret: x25519_dalek::StaticSecret,
    public: x25519_dalek::PublicKey,
}

impl ActiveKeyExchange for X25519Exchange {
    fn complete(self: Box<Self>, peer: &[u8]) -> Result<SharedSecret, Error> {
        let peer: [u8; 32] = peer.try_into().map_err(|_| bad_share())?;
        let shared = self
            .secret
            .diffie_hellman(&x25519_dalek::PublicKey::from(peer));
        // A low-order point gives an all-zero secret (RFC 7748, 6.1): refused.
        if !shared.was_contributory() {
            return Err(bad_share());
        }
        Ok(SharedSecret::from(&shared.as_bytes()[..]))
    }

    fn pub_key(&self) -> &[u8] {
        self.public.as_bytes()
    }

    fn group(&self) -> NamedGroup {
        NamedGroup::X25519
    }
}

impl SupportedKxGroup for P256 {
    fn start(&self) -> Result<Box<dyn ActiveKeyExchange>, Error> {
        let secret = p256::ecdh::EphemeralSecret::random(&mut Rng(self.0));
        let public = p256::EncodedPoint::from(secret.public_key())
            .as_bytes()
            .to_vec();
        Ok(Box::new(P256Exchange { secret, public }))
    }

    fn name(&self) -> NamedGroup {
        NamedGroup::secp256r1
    }
}

struct P256Exchange {
    secret: p256::ecdh::EphemeralSecret,
    /// The public key, uncompressed (as TLS 1.3 sends it).
    public: Vec<u8>,
}

impl ActiveKeyExchange for P256Exchange {
    fn complete(self: Box<Self>, peer: &[u8]) -> Result<SharedSecret, Error> {
        // TLS 1.3 sends uncompressed points only (RFC 8446, 4.2.8.2).
        if peer.first() != Some(&4) {
            return Err(bad_share());
        }
        let peer = p256::PublicKey::from_sec1_bytes(peer).map_err(|_| bad_share())?;
        let shared = self.secret.diffie_hellman(&peer);
        Ok(SharedSecret::from(&shared.raw_secret_bytes()[..]))
    }

    fn pub_key(&self) -> &[u8] {
        &self.public
    }

    fn group(&self) -> NamedGroup {
        NamedGroup::secp256r1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tls::provider::PlatformRandom;

    struct Counter(core::sync::atomic::AtomicU8);
    impl mirage_types::Random for Counter {
        fn self_init(&self) {}
        fn fill_bytes(&self, buf: &mut [u8]) {
            for byte in buf {
                *byte = self.0.fetch_add(7, core::sync::atomic::Ordering::Relaxed);
            }
        }
    }

    fn random() -> &'static dyn SecureRandom {
        std::boxed::Box::leak(std::boxed::Box::new(PlatformRandom(Counter(
            core::sync::atomic::AtomicU8::new(1),
        ))))
    }

    #[test]
    fn both_sides_agree_and_bad_shares_are_refused() {
        for group in [&X25519(random()) as &dyn SupportedKxGroup, &P256(random())] {
            let (ours, theirs) = (group.start().unwrap(), group.start().unwrap());
            let their_public = theirs.pub_key().to_vec();
            let our_public = ours.pub_key().to_vec();
            let a = ours.complete(&their_public).unwrap();
            let b = theirs.complete(&our_public).unwrap();
            assert_eq!(a.secret_bytes(), b.secret_bytes(), "{group:?}");
            for bad in [&[][..], &[0u8; 32][..], &[4u8; 65][..], &[1u8; 7][..]] {
                assert!(
                    group.start().unwrap().complete(bad).is_err(),
                    "{group:?} {bad:?}"
                );
            }
        }
    }
}
