//! A read-only key/value store over any filesystem (Mirage's `kv_ro_of_fs`).

#[allow(unused_imports)]
use crate::alloc_prelude::*;

use crate::key;
use bytes::Bytes;
use mirage_types::{Device, Entry, Fs, FsError, KvError, KvRo, Stat, async_trait};
use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

/// One directory's entries by their exact names.
type DirIndex = HashMap<String, Stat>;

/// The bytes of directory listings an [`FsKv`] keeps by default (names and details, roughly):
/// 4 MiB, some 40,000 entries.
const DEFAULT_INDEX_BYTES: usize = 4 << 20;

/// What one indexed entry is counted as, beyond its name's bytes.
const ENTRY_OVERHEAD: usize = 96;

/// `KvRo` over any [`Fs`]: keys are paths, spelt exactly as the filesystem lists its names.
///
/// A key matches an entry only by the name the filesystem lists for it, byte for byte: on
/// FAT, which itself finds names without regard to case and by their 8.3 short forms,
/// `TLS/server.key`, `tls/SERVER.KEY` or `TLS~1` name nothing when the file is listed as
/// `tls/server.key`. So rules about keys (a directory never served, say) hold whatever the
/// filesystem's own name rules are.
///
/// Each directory is listed on first use into an index (one `listdir_stat`); after that,
/// `size`, `exists` and `list` answer from memory and `read` goes straight to the file.
/// A key is resolved one directory at a time from the root, so only directories that exist,
/// spelt as listed, are ever listed and kept; the indexes kept are bounded in bytes
/// (4 MiB, some 40,000 entries, or as [`FsKv::with_index_bytes`] says), the oldest dropped first (and
/// listed again if used again). The store is a read-only view: changes made to the
/// filesystem through another handle after a directory was indexed may not be seen.
pub struct FsKv<F: Fs> {
    fs: F,
    indexes: RefCell<Indexes>,
}

/// Directory indexes by canonical path, oldest first, within a byte budget.
struct Indexes {
    by_path: HashMap<String, (Rc<DirIndex>, usize)>,
    order: VecDeque<String>,
    bytes: usize,
    budget: usize,
}

impl Indexes {
    fn get(&self, path: &str) -> Option<Rc<DirIndex>> {
        self.by_path.get(path).map(|(index, _)| index.clone())
    }

    fn insert(&mut self, path: &str, index: Rc<DirIndex>) {
        let cost = path.len()
            + index
                .keys()
                .map(|name| name.len() + ENTRY_OVERHEAD)
                .sum::<usize>();
        while self.bytes + cost > self.budget
            && let Some(oldest) = self.order.pop_front()
        {
            if let Some((_, freed)) = self.by_path.remove(&oldest) {
                self.bytes -= freed;
            }
        }
        if cost > self.budget {
            return; // Used for this lookup, never kept.
        }
        if let Some((_, old)) = self.by_path.insert(path.to_owned(), (index, cost)) {
            self.bytes -= old;
            self.order.retain(|p| p != path);
        }
        self.order.push_back(path.to_owned());
        self.bytes += cost;
    }
}

impl<F: Fs> FsKv<F> {
    /// A store over `fs`, keeping at most 4 MiB of directory indexes.
    pub fn new(fs: F) -> Self {
        Self::with_index_bytes(fs, DEFAULT_INDEX_BYTES)
    }

    /// A store over `fs` keeping at most `budget` bytes of directory indexes (a directory
    /// larger than that is listed on every lookup in it).
    pub fn with_index_bytes(fs: F, budget: usize) -> Self {
        FsKv {
            fs,
            indexes: RefCell::new(Indexes {
                by_path: HashMap::new(),
                order: VecDeque::new(),
                bytes: 0,
                budget,
            }),
        }
    }

    /// The filesystem underneath.
    pub fn fs(&self) -> &F {
        &self.fs
    }

    /// The bytes of directory indexes kept now (as counted against the budget).
    pub fn index_bytes(&self) -> usize {
        self.indexes.borrow().bytes
    }

    /// The index of directory `dir` (a canonical path whose every segment was found as
    /// listed).
    async fn directory(&self, dir: &str, key: &str) -> Result<Rc<DirIndex>, KvError> {
        if let Some(index) = self.indexes.borrow().get(dir) {
            return Ok(index);
        }
        let stats =
            self.fs
                .listdir_stat(&format!("/{dir}"))
                .await
                .map_err(|error| match error {
                    FsError::NoDirectoryEntry { .. } => KvError::UnknownKey(key.to_owned()),
                    FsError::NotADirectory(_) => KvError::DictionaryExpected(key.to_owned()),
                    other => KvError::Filesystem(other),
                })?;
        let index: Rc<DirIndex> = Rc::new(
            stats
                .into_iter()
                .map(|stat| (stat.filename.clone(), stat))
                .collect(),
        );
        self.indexes.borrow_mut().insert(dir, index.clone());
        Ok(index)
    }

    /// What `key` names: its path and details. The root is a directory. Each segment must
    /// be listed, spelt exactly so, in the directory before it.
    async fn lookup(&self, key: &str) -> Result<(String, Stat), KvError> {
        let segments = key::segments(key)?;
        let mut stat = Stat {
            filename: "/".into(),
            read_only: true,
            directory: true,
            size: 0,
        };
        let mut path = String::new();
        for segment in segments {
            if !stat.directory {
                return Err(KvError::UnknownKey(key.to_owned()));
            }
            let index = self.directory(&path, key).await?;
            stat = index
                .get(segment)
                .cloned()
                .ok_or_else(|| KvError::UnknownKey(key.to_owned()))?;
            if !path.is_empty() {
                path.push('/');
            }
            path.push_str(segment);
        }
        Ok((path, stat))
    }

    async fn value(&self, key: &str) -> Result<(String, Stat), KvError> {
        let (path, stat) = self.lookup(key).await?;
        if stat.directory {
            return Err(KvError::ValueExpected(key.to_owned()));
        }
        Ok((path, stat))
    }
}

#[async_trait(?Send)]
impl<F: Fs> Device for FsKv<F> {
    async fn disconnect(&self) {
        self.fs.disconnect().await
    }
}

#[async_trait(?Send)]
impl<F: Fs> KvRo for FsKv<F> {
    async fn read(&self, key: &str, offset: u64, length: u64) -> Result<Bytes, KvError> {
        let (path, stat) = self.value(key).await?;
        let length = length.min(stat.size.saturating_sub(offset));
        if length == 0 {
            return Ok(Bytes::new());
        }
        self.fs
            .read(&path, offset, length)
            .await
            .map_err(KvError::Filesystem)
    }

    async fn size(&self, key: &str) -> Result<u64, KvError> {
        Ok(self.value(key).await?.1.size)
    }

    async fn exists(&self, key: &str) -> Result<Option<Entry>, KvError> {
        match self.lookup(key).await {
            Ok((_, stat)) if stat.directory => Ok(Some(Entry::Dictionary)),
            Ok(_) => Ok(Some(Entry::Value)),
            Err(KvError::UnknownKey(_) | KvError::DictionaryExpected(_)) => Ok(None),
            Err(other) => Err(other),
        }
    }

    async fn list(&self, key: &str) -> Result<Vec<(String, Entry)>, KvError> {
        let (path, stat) = self.lookup(key).await?;
        if !stat.directory {
            return Err(KvError::DictionaryExpected(key.to_owned()));
        }
        let index = self.directory(&path, key).await?;
        let mut entries: Vec<(String, Entry)> = index
            .values()
            .map(|stat| {
                let entry = if stat.directory {
                    Entry::Dictionary
                } else {
                    Entry::Value
                };
                (stat.filename.clone(), entry)
            })
            .collect();
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(entries)
    }
}
