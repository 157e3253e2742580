//! HMAC-SHA-256, from which rustls derives TLS 1.3's HKDF (RustCrypto's `hmac`).

use alloc::boxed::Box;
use hmac::Mac;
use hmac::digest::KeyInit;
use rustls::crypto::hmac::{Hmac, Key, Tag};

/// HMAC with SHA-256.
pub struct HmacSha256;

impl Hmac for HmacSha256 {
    fn with_key(&self, key: &[u8]) -> Box<dyn Key> {
        // HMAC takes a key of any length (a long one is hashed first): this cannot fail.
        let mac = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(key)
            .expect("HMAC takes keys of any length");
        Box::new(Keyed(mac))
    }

    fn hash_output_len(&self) -> usize {
        32
    }
}

/// HMAC-SHA-256 under one key.
struct Keyed(hmac::Hmac<sha2::Sha256>);

impl Key for Keyed {
    fn sign_concat(&self, first: &[u8], middle: &[&[u8]], last: &[u8]) -> Tag {
        let mut mac = self.0.clone();
        mac.update(first);
        for part in middle {
            mac.update(part);
        }
        mac.update(last);
        Tag::new(&mac.finalize().into_bytes())
    }

    fn tag_len(&self) -> usize {
        32
    }
}
