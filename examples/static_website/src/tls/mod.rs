//! The server's TLS configuration, from its certificate chain and private key in the store
//! (`tls/server.pem`, `tls/server.key`, as Mirage's static_website_tls keeps them).

use std::prelude::rust_2024::*;
mod transport;

pub use transport::TlsTransport;

use mirage_types::{ErrorKind, KvRo};
use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::sync::Arc;

/// The key of the certificate chain (PEM, the server's certificate first).
pub const CERTIFICATE: &str = "tls/server.pem";
/// The key of the private key (PEM: PKCS#8, PKCS#1 or SEC1).
pub const PRIVATE_KEY: &str = "tls/server.key";

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
    Rustls(#[from] rustls::Error),
}

async fn read<K: KvRo>(store: &K, key: &'static str) -> Result<bytes::Bytes, TlsError> {
    store.get(key).await.map_err(|error| match error.kind() {
        ErrorKind::NotFound => TlsError::Missing(key),
        _ => TlsError::Store(key, error),
    })
}

/// A server configuration (TLS 1.2 and 1.3, ALPN `http/1.1`) from the store's files.
pub async fn server_config<K: KvRo>(store: &K) -> Result<Arc<ServerConfig>, TlsError> {
    let chain = read(store, CERTIFICATE).await?;
    let key = read(store, PRIVATE_KEY).await?;
    let certificates: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&chain)
        .collect::<Result<_, _>>()
        .map_err(|e| TlsError::Pem(CERTIFICATE, e.to_string()))?;
    if certificates.is_empty() {
        return Err(TlsError::Pem(CERTIFICATE, "no certificate in it".into()));
    }
    let key = PrivateKeyDer::from_pem_slice(&key)
        .map_err(|e| TlsError::Pem(PRIVATE_KEY, e.to_string()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certificates, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
