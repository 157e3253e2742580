//! HTTPS: the server's TLS configuration, from its certificate chain and private key in
//! the store (`tls/server.pem`, `tls/server.key`, as Mirage's static_website_tls keeps
//! them), and TLS over a connection with rustls's unbuffered server, which needs no `std`.
//! The cryptography is a [`Tls`]'s choice: `ring` on Unix ([`Tls::ring`]), RustCrypto over
//! the platform's random numbers and clock in the unikernel ([`provider`]).

pub mod provider;
mod transport;

pub use transport::TlsTransport;

use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use mirage_types::{ErrorKind, KvRo};
use rustls::ServerConfig;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::time_provider::TimeProvider;

/// The key of the certificate chain (PEM, the server's certificate first).
pub const CERTIFICATE: &str = "tls/server.pem";
/// The key of the private key (PEM: PKCS#8, PKCS#1 or SEC1).
pub const PRIVATE_KEY: &str = "tls/server.key";

/// The cryptography and the clock HTTPS runs on.
#[derive(Debug, Clone)]
pub struct Tls {
    /// The primitives, the randomness and the key loader.
    pub crypto: Arc<CryptoProvider>,
    /// The time, for certificate and ticket lifetimes.
    pub time: Arc<dyn TimeProvider>,
}

impl Tls {
    /// `crypto` with the time from `time`.
    pub fn new(crypto: CryptoProvider, time: Arc<dyn TimeProvider>) -> Self {
        Tls {
            crypto: Arc::new(crypto),
            time,
        }
    }

    /// rustls's `ring` provider and the system's clock (TLS 1.2 and 1.3).
    #[cfg(feature = "std")]
    pub fn ring() -> Self {
        Tls::new(
            rustls::crypto::ring::default_provider(),
            Arc::new(rustls::time_provider::DefaultTimeProvider),
        )
    }
}

/// Why HTTPS cannot start.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The store has no such key.
    #[error(
        "no {0} in the store (HTTPS needs a certificate and its key there; make test ones with make-test-cert.sh)"
    )]
    Missing(&'static str),
    /// The store failed to read it.
    #[error("{0}: {1}")]
    Store(&'static str, mirage_types::KvError),
    /// It is not PEM of the right kind.
    #[error("{0}: {1}")]
    Pem(&'static str, String),
    /// rustls refused the pair (a key that does not match the certificate, say).
    #[error("the certificate and key: {0}")]
    Rustls(rustls::Error),
}

// By hand: without `std`, rustls's error is no `core::error::Error` for thiserror's source.
impl From<rustls::Error> for TlsError {
    fn from(error: rustls::Error) -> Self {
        TlsError::Rustls(error)
    }
}

async fn read<K: KvRo + ?Sized>(store: &K, key: &'static str) -> Result<bytes::Bytes, TlsError> {
    store.get(key).await.map_err(|error| match error.kind() {
        ErrorKind::NotFound => TlsError::Missing(key),
        _ => TlsError::Store(key, error),
    })
}

/// A server configuration (the protocol versions `tls` has suites for, ALPN `http/1.1`)
/// from the store's files.
pub async fn server_config<K: KvRo + ?Sized>(
    store: &K,
    tls: &Tls,
) -> Result<Arc<ServerConfig>, TlsError> {
    let chain = read(store, CERTIFICATE).await?;
    let key = read(store, PRIVATE_KEY).await?;
    let certificates: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&chain)
        .collect::<Result<_, _>>()
        .map_err(|e| TlsError::Pem(CERTIFICATE, format!("{e}")))?;
    if certificates.is_empty() {
        return Err(TlsError::Pem(CERTIFICATE, "no certificate in it".into()));
    }
    let key = PrivateKeyDer::from_pem_slice(&key)
        .map_err(|e| TlsError::Pem(PRIVATE_KEY, format!("{e}")))?;
    let mut config = ServerConfig::builder_with_details(tls.crypto.clone(), tls.time.clone())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certificates, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
