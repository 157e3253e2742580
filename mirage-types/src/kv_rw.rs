//! Mirage 4 `Mirage_kv.RW` (mirage-kv 6.1): a key/value store that writes.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

use crate::{KvError, KvRo};
use async_trait::async_trait;
use core::time::Duration;

/// Mirage 4's read-write key/value store (`Mirage_kv.RW`, mirage-kv 6.1): the read side of
/// [`KvRo`] plus writes. Keys are `/`-separated paths, as for [`KvRo`]; a key's parents are
/// dictionaries, made as needed by the writes that create values.
///
/// What every implementation guarantees (the conformance suite in `mirage-kv` checks it):
///
/// * [`KvRw::set`] replaces a value **atomically**: a concurrent reader, or the store reopened
///   after a crash in the middle of the call, finds the old value or the new one, never a
///   mix (after a crash, at worst some space stays allocated until the key is next set).
/// * Writes are **durable when they return**: the device or file below has been flushed.
/// * [`KvRw::rename`] is atomic in the same sense: the value is under one name or the other.
/// * [`KvRw::set_partial`] and [`KvRw::allocate`] are durable, but a crash in the middle of
///   a `set_partial` may leave part of it written: use `set` to replace a value whole.
/// * [`KvRo::list`] gives each entry's kind, sorted by name.
///
/// ```
/// use mirage_types::{ErrorKind, KvError, KvRw};
///
/// /// Adds one to the counter under `key` (0 when there is none yet).
/// async fn bump<K: KvRw>(store: &K, key: &str) -> Result<u64, KvError> {
///     let count = match store.get(key).await {
///         Ok(value) => core::str::from_utf8(&value).ok().and_then(|s| s.parse().ok()).unwrap_or(0),
///         Err(error) if error.kind() == ErrorKind::NotFound => 0,
///         Err(error) => return Err(error),
///     } + 1;
///     store.set(key, count.to_string().as_bytes()).await?;
///     Ok(count)
/// }
/// ```
#[async_trait(?Send)]
pub trait KvRw: KvRo {
    /// Mirage 4 `set key value`: stores `value` under `key`, replacing any value there
    /// atomically and creating missing parent dictionaries. A key naming a dictionary is
    /// [`KvError::ValueExpected`]; a parent that is a value, [`KvError::DictionaryExpected`].
    async fn set(&self, key: &str, value: &[u8]) -> Result<(), KvError>;

    /// Mirage 4 `set_partial key ~offset data`: writes `data` at `offset` in the value,
    /// creating it (and its parents) when missing; bytes between the old end and `offset`
    /// read as zeros.
    async fn set_partial(&self, key: &str, offset: u64, data: &[u8]) -> Result<(), KvError>;

    /// Mirage 4 `remove key`: removes a value, or a dictionary with everything beneath it.
    /// A missing key is [`KvError::UnknownKey`]; the root cannot be removed
    /// ([`KvError::InvalidKey`]).
    async fn remove(&self, key: &str) -> Result<(), KvError>;

    /// Mirage 4 `rename ~source ~dest`: moves a value or a dictionary. Into `dest` when
    /// `dest` is an existing dictionary; over `dest` when it is a value (replaced
    /// atomically); [`KvError::RenameSourcePrefix`] when `dest` lies beneath `source`.
    async fn rename(&self, source: &str, dest: &str) -> Result<(), KvError>;

    /// Mirage 4 `allocate key ?last_modified size`: a new value of `size` zero bytes
    /// ([`KvError::AlreadyPresent`] when the key exists), with the given modification time
    /// where the store keeps times.
    async fn allocate(
        &self,
        key: &str,
        size: u64,
        last_modified: Option<Duration>,
    ) -> Result<(), KvError>;
}
