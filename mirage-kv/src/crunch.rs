//! Crunch: a directory compiled into the binary with `rust-embed`.

use crate::key;
use bytes::Bytes;
use mirage_types::{Device, Entry, KvError, KvRo, async_trait};
use rust_embed::RustEmbed;
use std::borrow::Cow;
use std::collections::BTreeMap;
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
    entries: Rc<BTreeMap<String, Entry>>,
    embed: PhantomData<E>,
}

impl<E: RustEmbed> Clone for Crunch<E> {
    fn clone(&self) -> Self {
        Crunch {
            entries: self.entries.clone(),
            embed: PhantomData,
        }
    }
}

impl<E: RustEmbed> Crunch<E> {
    /// Indexes the embedded files (V1's `connect ()`).
    pub fn new() -> Self {
        let mut entries = BTreeMap::new();
        entries.insert(String::new(), Entry::Dictionary);
        for name in E::iter() {
            let mut parent = name.as_ref();
            while let Some((dir, _)) = parent.rsplit_once('/') {
                entries.insert(dir.to_owned(), Entry::Dictionary);
                parent = dir;
            }
            entries.insert(name.into_owned(), Entry::Value);
        }
        Crunch {
            entries: Rc::new(entries),
            embed: PhantomData,
        }
    }

    fn value(&self, key: &str) -> Result<Bytes, KvError> {
        let name = key::normalise(key)?;
        match self.entries.get(&name) {
            Some(Entry::Value) => {}
            Some(Entry::Dictionary) => return Err(KvError::ValueExpected(key.to_owned())),
            None => return Err(KvError::UnknownKey(key.to_owned())),
        }
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
        Ok(match key::normalise(key) {
            Ok(name) => self.entries.get(&name).copied(),
            Err(_) => None,
        })
    }

    async fn list(&self, key: &str) -> Result<Vec<(String, Entry)>, KvError> {
        let dir = key::normalise(key)?;
        match self.entries.get(&dir) {
            Some(Entry::Dictionary) => {}
            Some(Entry::Value) => return Err(KvError::DictionaryExpected(key.to_owned())),
            None => return Err(KvError::UnknownKey(key.to_owned())),
        }
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        Ok(self
            .entries
            .range(prefix.clone()..)
            .take_while(|(name, _)| name.starts_with(&prefix))
            .filter_map(|(name, entry)| {
                let rest = &name[prefix.len()..];
                (!rest.is_empty() && !rest.contains('/')).then(|| (rest.to_owned(), *entry))
            })
            .collect())
    }

    async fn get(&self, key: &str) -> Result<Bytes, KvError> {
        self.value(key)
    }

    /// The file's modification time as `rust-embed` saw it at build time (directories have
    /// none).
    async fn last_modified(&self, key: &str) -> Result<Option<std::time::Duration>, KvError> {
        let name = key::normalise(key)?;
        match self.entries.get(&name) {
            None => Err(KvError::UnknownKey(key.to_owned())),
            Some(Entry::Dictionary) => Ok(None),
            Some(Entry::Value) => Ok(E::get(&name)
                .and_then(|file| file.metadata.last_modified())
                .map(std::time::Duration::from_secs)),
        }
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
