//! Crunch: a directory compiled into the binary with `rust-embed`.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

use crate::key;
use crate::tree_index::TreeIndex;
use bytes::Bytes;
use mirage_types::{Device, Entry, KvError, KvRo, async_trait};
use rust_embed::RustEmbed;
use std::borrow::Cow;
use std::marker::PhantomData;
use std::rc::Rc;

/// A read-only store over a directory embedded in the binary (Mirage's `crunch`).
///
/// Declare the directory with rust-embed's derive, through this crate's re-export (so that
/// your `Cargo.toml` needs no `rust-embed` of its own, the `crate_path` attribute names it),
/// then open it with `Crunch::<Files>::new()`. Values are `Bytes` views of the embedded data:
/// no copy, in debug builds as in release (this crate turns on `rust-embed`'s `debug-embed`,
/// so both embed the same data). Keys `a` and `/a` are the same. The folder is relative to
/// the crate's `Cargo.toml`.
///
/// ```
/// use mirage_kv::{Crunch, RustEmbed};
/// use mirage_types::KvRo;
///
/// #[derive(RustEmbed)]
/// #[folder = "tests/data/t/"]
/// #[crate_path = "mirage_kv::rust_embed"]
/// struct Files;
///
/// let store = Crunch::<Files>::new();
/// mirage_unix::run(async {
///     assert_eq!(store.get("a").await.unwrap(), "foo\n");
/// });
/// ```
pub struct Crunch<E: RustEmbed> {
    /// Every key and every directory above one, normalised.
    index: Rc<TreeIndex<()>>,
    embed: PhantomData<E>,
}

impl<E: RustEmbed> Clone for Crunch<E> {
    fn clone(&self) -> Self {
        Crunch {
            index: self.index.clone(),
            embed: PhantomData,
        }
    }
}

impl<E: RustEmbed> Crunch<E> {
    /// Indexes the embedded files (V1's `connect ()`).
    pub fn new() -> Self {
        let names: Vec<Cow<'static, str>> = E::iter().collect();
        Crunch {
            index: Rc::new(TreeIndex::new(names.iter().map(|name| (name.as_ref(), ())))),
            embed: PhantomData,
        }
    }

    fn value(&self, key: &str) -> Result<Bytes, KvError> {
        let (name, ()) = self.index.value(key)?;
        let file = E::get(&name).ok_or_else(|| KvError::UnknownKey(key.to_owned()))?;
        Ok(match file.data {
            Cow::Borrowed(data) => Bytes::from_static(data),
            Cow::Owned(data) => Bytes::from(data),
        })
    }
}

impl<E: RustEmbed> Default for Crunch<E> {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait(?Send)]
impl<E: RustEmbed> Device for Crunch<E> {
    /// Nothing to release: the data is part of the binary.
    async fn disconnect(&self) {}
}

#[async_trait(?Send)]
impl<E: RustEmbed> KvRo for Crunch<E> {
    async fn read(&self, key: &str, offset: u64, length: u64) -> Result<Bytes, KvError> {
        Ok(crate::window(self.value(key)?, offset, length))
    }

    async fn size(&self, key: &str) -> Result<u64, KvError> {
        Ok(self.value(key)?.len() as u64)
    }

    async fn exists(&self, key: &str) -> Result<Option<Entry>, KvError> {
        Ok(self.index.exists(key))
    }

    async fn list(&self, key: &str) -> Result<Vec<(String, Entry)>, KvError> {
        self.index.list(key)
    }

    async fn get(&self, key: &str) -> Result<Bytes, KvError> {
        self.value(key)
    }

    /// The file's modification time as `rust-embed` saw it at build time (directories have
    /// none).
    async fn last_modified(&self, key: &str) -> Result<Option<std::time::Duration>, KvError> {
        if self.index.is_dictionary(key)? {
            return Ok(None);
        }
        Ok(E::get(&key::normalise(key)?)
            .and_then(|file| file.metadata.last_modified())
            .map(std::time::Duration::from_secs))
    }

    /// The SHA-256 `rust-embed` computed at build time.
    async fn digest(&self, key: &str) -> Result<String, KvError> {
        self.value(key)?;
        let name = key::normalise(key)?;
        let file = E::get(&name).ok_or_else(|| KvError::UnknownKey(key.to_owned()))?;
        Ok(file
            .metadata
            .sha256_hash()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect())
    }
}
