//! V1 `KV_RO`: a read-only key/value store, with Mirage 4's read side.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

#[cfg(feature = "std")]
use crate::IoError;
use crate::{Device, ErrorKind, FsError};
use async_trait::async_trait;
use bytes::Bytes;
use core::time::Duration;
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
    /// Mirage 4 `No_space`: the store is full.
    #[error("no space left in the key/value store")]
    NoSpace,
    /// Mirage 4 `Already_present`: [`crate::KvRw::allocate`] of a key that exists.
    #[error("key {0} is already present")]
    AlreadyPresent(String),
    /// Mirage 4 `Rename_source_prefix`: a rename into the source's own subtree.
    #[error("cannot rename {source_key} into itself ({dest})")]
    RenameSourcePrefix {
        /// The key being renamed.
        source_key: String,
        /// The destination, beneath it.
        dest: String,
    },
    /// The key cannot name anything in this store: a `..` segment, a character or a length
    /// the store's names do not allow, a spelling that differs only in case from a stored
    /// key where the store ignores case, or a name the store reserves for itself.
    #[error("key {key:?} is not allowed: {reason}")]
    InvalidKey {
        /// The key as given.
        key: String,
        /// Which rule it breaks.
        reason: String,
    },
    /// A write to a store that only reads.
    #[error("key/value store is read-only")]
    ReadOnly,
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
            KvError::NoSpace => ErrorKind::NoSpace,
            KvError::AlreadyPresent(_) => ErrorKind::AlreadyExists,
            KvError::RenameSourcePrefix { .. } | KvError::InvalidKey { .. } => {
                ErrorKind::InvalidInput
            }
            KvError::ReadOnly => ErrorKind::ReadOnly,
        }
    }

    /// [`KvError::InvalidKey`] for `key`, breaking rule `reason`.
    pub fn invalid_key(key: &str, reason: impl Into<String>) -> Self {
        KvError::InvalidKey {
            key: key.to_owned(),
            reason: reason.into(),
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

/// V1 `KV_RO`: values named by `/`-separated keys (`a` and `/a` are the same key), with
/// Mirage 4's read side (`mirage-kv` 6.1 `RO`: `exists`, `get`, `get_partial`, `list`,
/// `last_modified`, `digest`, `size`) as provided methods.
///
/// One trait serves both: every V1 store answers Mirage 4's questions (the new ones have
/// defaults built on V1's `read` and `size`), and [`crate::KvRw`] extends it with writes.
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

    /// Mirage 4 `get_partial key ~offset ~length`: V1's [`KvRo::read`] under its new name.
    async fn get_partial(&self, key: &str, offset: u64, length: u64) -> Result<Bytes, KvError> {
        self.read(key, offset, length).await
    }

    /// Mirage 4 `last_modified`: when the value (or directory) was last changed, as time since
    /// the Unix epoch, or `None` where the store keeps no times (compiled-in data). A missing
    /// key is [`KvError::UnknownKey`].
    async fn last_modified(&self, key: &str) -> Result<Option<Duration>, KvError> {
        match self.exists(key).await? {
            Some(_) => Ok(None),
            None => Err(KvError::UnknownKey(key.to_owned())),
        }
    }

    /// A digest of the value: its SHA-256 in lowercase hex (stores may answer faster from
    /// an index, but must give the same string).
    ///
    /// The default reads the value [`DIGEST_CHUNK`] bytes at a time, so memory stays bounded
    /// whatever the value's size, and other work runs between the reads.
    async fn digest(&self, key: &str) -> Result<String, KvError> {
        let mut hasher = Sha256::new();
        let mut offset = 0;
        loop {
            let chunk = self.read(key, offset, DIGEST_CHUNK).await?;
            if chunk.is_empty() {
                break;
            }
            hasher.update(&chunk);
            offset += chunk.len() as u64;
        }
        Ok(hex(&hasher.finalize()))
    }
}

/// The bytes [`KvRo::digest`]'s default reads at a time.
pub const DIGEST_CHUNK: u64 = 64 * 1024;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// SHA-256 of `data` in lowercase hexadecimal, as [`KvRo::digest`] gives it.
pub fn hex_sha256(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}
