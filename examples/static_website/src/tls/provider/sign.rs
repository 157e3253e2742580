//! The server's key: ECDSA P-256 with SHA-256 (RustCrypto's `p256`, deterministic
//! signatures by RFC 6979, so no randomness is spent or needed), loaded from PKCS#8 or SEC1.

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use p256::ecdsa::signature::Signer as _;
use p256::pkcs8::DecodePrivateKey;
use rustls::crypto::KeyProvider;
use rustls::pki_types::PrivateKeyDer;
use rustls::sign::{Signer, SigningKey};
use rustls::{Error, SignatureAlgorithm, SignatureScheme};

/// Loads ECDSA P-256 keys; others are refused with a message naming what is supported.
#[derive(Debug)]
pub struct EcdsaP256Keys;

impl KeyProvider for EcdsaP256Keys {
    fn load_private_key(&self, key: PrivateKeyDer<'static>) -> Result<Arc<dyn SigningKey>, Error> {
        let secret = match &key {
            PrivateKeyDer::Pkcs8(der) => {
                p256::SecretKey::from_pkcs8_der(der.secret_pkcs8_der()).map_err(|_| unsupported())
            }
            PrivateKeyDer::Sec1(der) => {
                p256::SecretKey::from_sec1_der(der.secret_sec1_der()).map_err(|_| unsupported())
            }
            _ => Err(unsupported()),
        }?;
        Ok(Arc::new(EcdsaKey(p256::ecdsa::SigningKey::from(secret))))
    }
}

fn unsupported() -> Error {
    Error::General("the unikernel's TLS signs with ECDSA P-256 keys only (PKCS#8 or SEC1)".into())
}

/// An ECDSA P-256 key.
#[derive(Clone)]
struct EcdsaKey(p256::ecdsa::SigningKey);

impl fmt::Debug for EcdsaKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EcdsaKey(P-256)")
    }
}

impl SigningKey for EcdsaKey {
    fn choose_scheme(&self, offered: &[SignatureScheme]) -> Option<Box<dyn Signer>> {
        offered
            .contains(&SignatureScheme::ECDSA_NISTP256_SHA256)
            .then(|| Box::new(self.clone()) as Box<dyn Signer>)
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        SignatureAlgorithm::ECDSA
    }
}

impl Signer for EcdsaKey {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        let signature: p256::ecdsa::Signature = self.0.sign(message);
        Ok(signature.to_der().as_bytes().to_vec())
    }

    fn scheme(&self) -> SignatureScheme {
        SignatureScheme::ECDSA_NISTP256_SHA256
    }
}
