//! V1 `KV_RO`: a read-only key/value store, with the modern conveniences.

#[allow(unused_imports)]
use crate::prelude::*;

#[cfg(feature = "std")]
use crate::IoError;
use crate::{Device, ErrorKind, FsError};
use async_trait::async_trait;
use bytes::Bytes;
use sha2::{Digest, Sha256};
use thiserror::Error;

/// Errors of a key/value store (V1: `Unknown_key of string`).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum KvError {
    /// V1 `Unknown_key`: nothing is stored under this key.
    #[error("unknown key: {0}")]
    UnknownKey(String),
    /// A value operation on a key that names a directory.
    #[error("key {0} is a directory, not a value")]
    ValueExpected(String),
    /// A directory operation on a key that names a value.
    #[error("key {0} is a value, not a directory")]
    DictionaryExpected(String),
    /// The store failed (a filesystem error), described.
    #[error("key/value store failure: {0}")]
    Failure(String),
    /// The operating system reported an error (the error is kept as `source()`).
    #[cfg(feature = "std")]
    #[error("key/value store I/O failed: {0}")]
    Io(#[source] IoError),
    /// The filesystem underneath failed (a store over an [`crate::Fs`]), kept as `source()`.
    #[error("key/value store's filesystem failed: {0}")]
    Filesystem(#[source] FsError),
    /// The store was disconnected.
    #[error("key/value store is disconnected")]
    Disconnected,
}

impl KvError {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            KvError::UnknownKey(_) => ErrorKind::NotFound,
            KvError::ValueExpected(_) | KvError::DictionaryExpected(_) => ErrorKind::WrongEntryKind,
            KvError::Failure(_) => ErrorKind::Other,
            #[cfg(feature = "std")]
            KvError::Io(error) => error.kind(),
            KvError::Filesystem(error) => error.kind(),
            KvError::Disconnected => ErrorKind::Disconnected,
        }
    }
}

/// What a key names (the modern `exists` answer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Entry {
    /// A value.
    Value,
    /// A directory of further keys.
    Dictionary,
}

/// V1 `KV_RO`: values named by `/`-separated keys (`a` and `/a` are the same key).
///
/// ```
/// use mirage_types::{ErrorKind, KvRo};
///
/// /// A page and its ETag, or `None` when the store has no such key.
/// async fn page<K: KvRo>(store: &K, key: &str) -> Result<Option<(bytes::Bytes, String)>, mirage_types::KvError> {
///     match store.get(key).await {
///         Ok(body) => Ok(Some((body, store.digest(key).await?))),
///         Err(error) if error.kind() == ErrorKind::NotFound => Ok(None),
///         Err(error) => Err(error),
///     }
/// }
/// ```
#[async_trait(?Send)]
pub trait KvRo: Device {
    /// V1 `read key offset length`: at most `length` bytes of the value from `offset`; a
    /// shorter result means the end of the value.
    async fn read(&self, key: &str, offset: u64, length: u64) -> Result<Bytes, KvError>;

    /// V1 `size`: the value's length in bytes.
    async fn size(&self, key: &str) -> Result<u64, KvError>;

    /// Whether `key` names a value, a directory, or (`None`) nothing.
    async fn exists(&self, key: &str) -> Result<Option<Entry>, KvError>;

    /// The entries of directory `key` (`""` or `/` is the root), with what each is, sorted by
    /// name.
    async fn list(&self, key: &str) -> Result<Vec<(String, Entry)>, KvError>;

    /// The whole value.
    async fn get(&self, key: &str) -> Result<Bytes, KvError> {
        let size = self.size(key).await?;
        self.read(key, 0, size).await
    }

    /// A digest of the value: its SHA-256 in lowercase hex (stores may answer faster from
    /// an index, but must give the same string).
    async fn digest(&self, key: &str) -> Result<String, KvError> {
        let value = self.get(key).await?;
        Ok(hex_sha256(&value))
    }
}

/// SHA-256 of `data` in lowercase hexadecimal, as [`KvRo::digest`] gives it.
pub fn hex_sha256(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}
