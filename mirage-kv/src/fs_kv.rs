//! A read-only key/value store over any filesystem (Mirage's `kv_ro_of_fs`).

use crate::key;
use bytes::Bytes;
use mirage_types::{Device, Entry, Fs, FsError, KvError, KvRo, Stat, async_trait};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

/// One directory's entries by lower-cased name (FAT names compare without case).
type DirIndex = HashMap<String, Stat>;

/// `KvRo` over any [`Fs`]: keys are paths.
///
/// Each directory is listed once, on first use, into an index (one `listdir_stat`); after
/// that, `size`, `exists` and `list` answer from memory and `read` goes straight to the file,
/// so no lookup scans a directory. The store is a read-only view: changes made to the
/// filesystem through another handle after a directory was indexed are not seen.
pub struct FsKv<F: Fs> {
    fs: F,
    directories: RefCell<HashMap<String, Rc<DirIndex>>>,
}

impl<F: Fs> FsKv<F> {
    /// A store over `fs`.
    pub fn new(fs: F) -> Self {
        FsKv {
            fs,
            directories: RefCell::new(HashMap::new()),
        }
    }

    /// The filesystem underneath.
    pub fn fs(&self) -> &F {
        &self.fs
    }

    async fn directory(&self, dir: &str, key: &str) -> Result<Rc<DirIndex>, KvError> {
        if let Some(index) = self.directories.borrow().get(dir) {
            return Ok(index.clone());
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
                .map(|stat| (stat.filename.to_lowercase(), stat))
                .collect(),
        );
        self.directories
            .borrow_mut()
            .insert(dir.to_owned(), index.clone());
        Ok(index)
    }

    /// What `key` names: its path and details. The root is a directory.
    async fn lookup(&self, key: &str) -> Result<(String, Stat), KvError> {
        let segments = key::segments(key)?;
        let Some((name, parents)) = segments.split_last() else {
            let root = Stat {
                filename: "/".into(),
                read_only: true,
                directory: true,
                size: 0,
            };
            return Ok((String::new(), root));
        };
        let dir = parents.join("/");
        let index = self.directory(&dir, key).await?;
        let stat = index
            .get(&name.to_lowercase())
            .cloned()
            .ok_or_else(|| KvError::UnknownKey(key.to_owned()))?;
        Ok((segments.join("/"), stat))
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
