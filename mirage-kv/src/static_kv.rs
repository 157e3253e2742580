//! A store compiled into the program as a table of names and bytes: Mirage's `crunch` for a
//! program without `std` (a unikernel), where `rust-embed` cannot go.

#[allow(unused_imports)]
use crate::alloc_prelude::*;
use crate::tree_index::TreeIndex;
use alloc::rc::Rc;
use bytes::Bytes;
use mirage_types::{Device, Entry, KvError, KvRo, async_trait};

/// A read-only store over files compiled in as `(key, bytes)` pairs, keys with `/` between
/// segments. A build script makes the table from a directory with
/// `include_bytes!` (see `examples/kv_ro_crunch/build.rs`); values are `Bytes` views of
/// the static data, never copied. Keys `a` and `/a` are the same.
///
/// ```
/// use mirage_kv::StaticKv;
/// use mirage_types::{Entry, KvRo};
///
/// static FILES: &[(&str, &[u8])] = &[("a", b"foo\n"), ("d/b", b"bar\n")];
/// let store = StaticKv::new(FILES);
/// mirage_unix::run(async {
///     assert_eq!(store.get("/a").await.unwrap(), "foo\n");
///     assert_eq!(store.list("d").await.unwrap(), [("b".to_string(), Entry::Value)]);
/// });
/// ```
#[derive(Clone)]
pub struct StaticKv {
    /// Every key, each value with its bytes.
    index: Rc<TreeIndex<&'static [u8]>>,
}

impl StaticKv {
    /// Indexes `files` (V1's `connect ()`).
    pub fn new(files: &'static [(&'static str, &'static [u8])]) -> Self {
        let files = files
            .iter()
            .map(|&(name, data)| (name.trim_start_matches('/'), data));
        StaticKv {
            index: Rc::new(TreeIndex::new(files)),
        }
    }

    fn value(&self, key: &str) -> Result<Bytes, KvError> {
        let (_, data) = self.index.value(key)?;
        Ok(Bytes::from_static(data))
    }
}

impl core::fmt::Debug for StaticKv {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("StaticKv").finish_non_exhaustive()
    }
}

#[async_trait(?Send)]
impl Device for StaticKv {
    /// Nothing to release: the data is part of the program.
    async fn disconnect(&self) {}
}

#[async_trait(?Send)]
impl KvRo for StaticKv {
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
}
