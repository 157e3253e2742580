//! Mirage 4's read-write key/value store on a FAT filesystem.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

use super::journal::Journal;
use super::names::{self, Found, RESERVED_PREFIX, find_exact};
use super::{FatFs, WriteOrder};
use crate::key;
use bytes::Bytes;
use fatfs::{Dir, FileSystem, FsOptions, ReadWriteSeek};
use mirage_types::{Block, Device, Entry, Fs, FsError, KvError, KvRo, KvRw, Tm, async_trait};
use std::cell::{Cell, RefCell};
use std::io::{self, Write};
use std::time::Duration;

/// The journal's name, in the root directory.
const JOURNAL: &str = ".~kv-journal";
/// The journal's size: room for the directory and table sectors of one commit.
const JOURNAL_BYTES: u64 = 256 * 1024;
/// Reads retried while writes land before a reader waits for the writer instead.
const OPTIMISTIC_READS: usize = 8;

/// Mirage 4's `KV_RW` on FAT ([`FatFs`] over any [`Block`]): keys are paths, values files,
/// dictionaries directories.
///
/// * **Atomic, durable `set`.** The value is written to a temporary file beside it and the
///   device flushed; then one transaction renames the old value aside and the new one into
///   place, through a small journal (a hidden file, `.~kv-journal`, made on the first write),
///   so that it reaches the device whole or not at all; then the old value is removed and the
///   device flushed again. A crash at any point leaves the old value or the new one; the next
///   [`FatKv::connect`] finishes a journaled commit, and the next `set` of the key removes
///   what a crash left behind. `rename` commits the same way.
/// * **Names as FAT has them, refused when FAT would confuse them.** FAT ignores case and
///   gives each long name an 8.3 short name (`TLS~1`); this store matches keys exactly as
///   stored: `get("A")` of a stored `a` is not found, and `set("A")` beside `a`, or a key
///   that is another entry's short name, is [`KvError::InvalidKey`], as are names FAT cannot
///   hold (`"*/:<>?\|`, control characters, a trailing dot or space, more than 249
///   characters). Names beginning `.~kv` are the store's own.
/// * **Readers never see a write half done**: a read during which a write commits is retried.
///
/// Writes made to the filesystem through [`FatKv::fs`] bypass these rules.
///
/// ```
/// use mirage_block::MemBlock;
/// use mirage_kv::{FatFs, FatKv};
/// use mirage_types::{KvRo, KvRw};
///
/// mirage_unix::run(async {
///     let fs = FatFs::format_device(MemBlock::new(512, 8192).unwrap()).await.unwrap();
///     let store = FatKv::connect(fs).await.unwrap();
///     store.set("users/alice", b"admin").await.unwrap();
///     store.rename("users/alice", "users/bob").await.unwrap();
///     assert_eq!(store.get("users/bob").await.unwrap(), "admin");
///     assert!(store.get("USERS/bob").await.is_err()); // keys are exact
/// });
/// ```
pub struct FatKv<B: Block> {
    fs: FatFs<B>,
    journal: RefCell<Option<Journal>>,
    /// A journaled commit failed after its journal was written: replay it before writing.
    armed: Cell<bool>,
    /// Writes run one at a time.
    writer: tokio::sync::Mutex<()>,
}

/// What a key names.
struct Info {
    /// The key as stored.
    path: String,
    directory: bool,
    size: u64,
    modified: Option<Duration>,
}

/// How [`walk`] treats missing directories.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Walk {
    Read,
    Create,
}

/// An outcome inside a transaction: `Err` for the store's own answers (nothing written).
type Answer<T> = io::Result<Result<T, KvError>>;

/// The directory `parents` name beneath the root, each spelt exactly; with [`Walk::Create`]
/// missing ones are made.
fn walk<'a, T: ReadWriteSeek>(
    fs: &'a FileSystem<T>,
    key: &str,
    parents: &[&str],
    mode: Walk,
) -> Answer<Dir<'a, T>> {
    let mut dir = fs.root_dir();
    for segment in parents {
        dir = match find_exact(&dir, segment)? {
            Found::Entry(entry) if entry.is_dir() => entry.to_dir(),
            Found::Entry(_) => return Ok(Err(KvError::DictionaryExpected(key.to_owned()))),
            Found::Missing if mode == Walk::Create => dir.create_dir(segment)?,
            Found::Missing => return Ok(Err(KvError::UnknownKey(key.to_owned()))),
            Found::Conflict(stored) if mode == Walk::Create => {
                return Ok(Err(case_conflict(key, segment, &stored)));
            }
            Found::Conflict(_) => return Ok(Err(KvError::UnknownKey(key.to_owned()))),
        };
    }
    Ok(Ok(dir))
}

fn case_conflict(key: &str, name: &str, stored: &str) -> KvError {
    KvError::invalid_key(
        key,
        format!(
            "FAT takes {name:?} for the stored name {stored:?} (it ignores case and has 8.3 short names)"
        ),
    )
}

fn is_reserved(segments: &[&str]) -> bool {
    segments.iter().any(|s| s.starts_with(RESERVED_PREFIX))
}

/// FAT keeps local time without a zone; it is read as UTC.
fn since_epoch(time: fatfs::DateTime) -> Duration {
    let tm = Tm {
        tm_sec: i32::from(time.time.sec),
        tm_min: i32::from(time.time.min),
        tm_hour: i32::from(time.time.hour),
        tm_mday: i32::from(time.date.day),
        tm_mon: i32::from(time.date.month) - 1,
        tm_year: i32::from(time.date.year) - 1900,
        tm_wday: 0,
        tm_yday: 0,
        tm_isdst: false,
    };
    Duration::from_secs(tm.to_unix_seconds().max(0) as u64)
        + Duration::from_millis(u64::from(time.time.millis))
}

/// `time` as FAT can hold it (1980 to 2107, two-second steps kept by `fatfs`).
fn fat_time(time: Duration) -> fatfs::DateTime {
    let seconds = time.as_secs().clamp(315_532_800, 4_354_819_199);
    let tm = Tm::from_unix_seconds(seconds as f64);
    fatfs::DateTime {
        date: fatfs::Date {
            year: (tm.tm_year + 1900) as u16,
            month: (tm.tm_mon + 1) as u16,
            day: tm.tm_mday as u16,
        },
        time: fatfs::Time {
            hour: tm.tm_hour as u16,
            min: tm.tm_min as u16,
            sec: tm.tm_sec as u16,
            millis: 0,
        },
    }
}

/// Removes `name` from `dir`, with everything beneath it.
fn remove_tree<T: ReadWriteSeek>(dir: &Dir<'_, T>, name: &str) -> io::Result<()> {
    if let Found::Entry(entry) = find_exact(dir, name)?
        && entry.is_dir()
    {
        let sub = entry.to_dir();
        let children: Vec<String> = sub
            .iter()
            .map(|child| child.map(|child| child.file_name()))
            .collect::<io::Result<_>>()?;
        for child in children.iter().filter(|c| *c != "." && *c != "..") {
            remove_tree(&sub, child)?;
        }
    }
    dir.remove(name)
}

/// Moves directory `name` of `from` to `to` as `new_name`, entry by entry (`fatfs` would
/// leave a moved directory's `..` naming its old parent).
fn move_tree<T: ReadWriteSeek>(
    from: &Dir<'_, T>,
    name: &str,
    to: &Dir<'_, T>,
    new_name: &str,
) -> io::Result<()> {
    let Found::Entry(entry) = find_exact(from, name)? else {
        return Err(io::Error::from(io::ErrorKind::NotFound));
    };
    if !entry.is_dir() {
        return from.rename(name, to, new_name);
    }
    let source = entry.to_dir();
    let target = to.create_dir(new_name)?;
    let children: Vec<String> = source
        .iter()
        .map(|child| child.map(|child| child.file_name()))
        .collect::<io::Result<_>>()?;
    for child in children.iter().filter(|c| *c != "." && *c != "..") {
        move_tree(&source, child, &target, child)?;
    }
    from.remove(name)
}

/// The store's answer for a filesystem error on `key`.
fn kv_error(key: &str, error: FsError) -> KvError {
    match error {
        FsError::NoSpace => KvError::NoSpace,
        FsError::NoDirectoryEntry { .. } => KvError::UnknownKey(key.to_owned()),
        FsError::NotADirectory(_) => KvError::DictionaryExpected(key.to_owned()),
        FsError::IsADirectory(_) => KvError::ValueExpected(key.to_owned()),
        FsError::FileAlreadyExists(_) => KvError::AlreadyPresent(key.to_owned()),
        other => KvError::Filesystem(other),
    }
}

/// A key to write: its parents and name, each a name FAT can hold.
fn writable(key: &str) -> Result<(Vec<&str>, &str), KvError> {
    let segments = key::write_segments(key)?;
    let Some((name, parents)) = segments.split_last() else {
        return Err(KvError::invalid_key(key, "the root is a dictionary"));
    };
    for segment in &segments {
        if let Some(reason) = names::refusal(segment) {
            return Err(KvError::invalid_key(key, reason));
        }
    }
    Ok((parents.to_vec(), name))
}

impl<B: Block> FatKv<B> {
    /// The store over `fs`. If a crash interrupted a commit after its journal was written,
    /// the commit is finished first.
    pub async fn connect(fs: FatFs<B>) -> Result<Self, KvError> {
        let store = FatKv {
            fs,
            journal: RefCell::new(None),
            armed: Cell::new(false),
            writer: tokio::sync::Mutex::new(()),
        };
        let size = store
            .fs
            .with_fs(JOURNAL, |fs| match find_exact(&fs.root_dir(), JOURNAL)? {
                Found::Entry(entry) if entry.is_file() => Ok(Some(entry.len())),
                _ => Ok(None),
            })
            .await
            .map_err(KvError::Filesystem)?;
        if let Some(size) = size.filter(|size| *size == store.journal_bytes()) {
            let journal = store.locate_journal(size).await?;
            store
                .fs
                .replay_journal(&journal)
                .await
                .map_err(KvError::Filesystem)?;
            *store.journal.borrow_mut() = Some(journal);
        }
        Ok(store)
    }

    /// The filesystem underneath.
    pub fn fs(&self) -> &FatFs<B> {
        &self.fs
    }

    /// The filesystem back.
    pub fn into_fs(self) -> FatFs<B> {
        self.fs
    }

    /// The journal's size on this device: 256 KiB, or an eighth of a small device.
    fn journal_bytes(&self) -> u64 {
        let sector = self.fs.info.sector_size as u64;
        let bytes = JOURNAL_BYTES.min(self.fs.device_bytes() / 8);
        (bytes / sector).max(8) * sector
    }

    /// Where the journal file's sectors lie on the device.
    async fn locate_journal(&self, size: u64) -> Result<Journal, KvError> {
        let sector = self.fs.info.sector_size as usize;
        let mut scratch = vec![0u8; size as usize];
        let (got, trace) = self
            .fs
            .attempts(JOURNAL, &mut scratch, false, |disk, out| {
                let fs = FileSystem::new(disk, FsOptions::new())?;
                let got = super::ops::read_file(&fs, JOURNAL, 0, out)?;
                fs.unmount()?;
                Ok(got)
            })
            .await
            .map_err(KvError::Filesystem)?;
        let mut sectors = vec![u64::MAX; size as usize / sector];
        for read in &trace {
            for i in 0..read.len / sector {
                if let Some(slot) = sectors.get_mut(read.out_offset / sector + i) {
                    *slot = read.device_offset / sector as u64 + i as u64;
                }
            }
        }
        if got as u64 != size || sectors.contains(&u64::MAX) {
            return Err(KvError::Filesystem(FsError::FormatNotRecognised(
                "the key/value journal could not be mapped to the device".into(),
            )));
        }
        Ok(Journal { sectors })
    }

    /// The journal, made the first time a store on this filesystem writes.
    async fn journal(&self) -> Result<Journal, KvError> {
        if let Some(journal) = self.journal.borrow().clone() {
            return Ok(journal);
        }
        let size = self.journal_bytes();
        // A journal cut short by a crash while it was made is made again.
        self.fs
            .with_fs_ordered(JOURNAL, &WriteOrder::TablesLast, |fs| {
                match find_exact(&fs.root_dir(), JOURNAL)? {
                    Found::Entry(entry) if entry.len() != size => fs.root_dir().remove(JOURNAL),
                    _ => Ok(()),
                }
            })
            .await
            .map_err(|error| kv_error(JOURNAL, error))?;
        self.fs
            .with_fs(JOURNAL, |fs| {
                if let Found::Entry(_) = find_exact(&fs.root_dir(), JOURNAL)? {
                    return Ok(());
                }
                let mut file = fs.root_dir().create_file(JOURNAL)?;
                super::ops::write_zeros(&mut file, size)?;
                file.flush()
            })
            .await
            .map_err(|error| kv_error(JOURNAL, error))?;
        self.sync().await?;
        let journal = self.locate_journal(size).await?;
        *self.journal.borrow_mut() = Some(journal.clone());
        Ok(journal)
    }

    async fn sync(&self) -> Result<(), KvError> {
        Fs::sync(&self.fs).await.map_err(KvError::Filesystem)
    }

    /// Runs `op` on the mounted filesystem with its writes in `order`; errors for `key`.
    async fn run<R>(
        &self,
        key: &str,
        order: &WriteOrder,
        op: impl FnMut(&FileSystem<&mut super::attempt::Attempt<'_>>) -> Answer<R>,
    ) -> Result<R, KvError> {
        let result = self.fs.with_fs_ordered(key, order, op).await;
        if result.is_err() && matches!(order, WriteOrder::Journaled(_)) {
            self.armed.set(true);
        }
        result.map_err(|error| kv_error(key, error))?
    }

    /// Before a write: finishes a journaled commit a failed write-back left behind.
    async fn disarm(&self) -> Result<(), KvError> {
        if self.armed.get() {
            let journal = self.journal.borrow().clone();
            if let Some(journal) = journal {
                self.fs
                    .replay_journal(&journal)
                    .await
                    .map_err(KvError::Filesystem)?;
            }
            self.armed.set(false);
        }
        Ok(())
    }

    /// What `key` names, looked up exactly as spelt.
    async fn lookup(&self, key: &str) -> Result<Info, KvError> {
        let segments = key::segments(key)?;
        let Some((name, parents)) = segments.split_last() else {
            return Ok(Info {
                path: String::new(),
                directory: true,
                size: 0,
                modified: None,
            });
        };
        if is_reserved(&segments) {
            return Err(KvError::UnknownKey(key.to_owned()));
        }
        let path = segments.join("/");
        self.run(key, &WriteOrder::Ascending, |fs| {
            let dir = match walk(fs, key, parents, Walk::Read)? {
                Ok(dir) => dir,
                Err(error) => return Ok(Err(error)),
            };
            Ok(match find_exact(&dir, name)? {
                Found::Entry(entry) => Ok(Info {
                    path: path.clone(),
                    directory: entry.is_dir(),
                    size: if entry.is_dir() { 0 } else { entry.len() },
                    modified: Some(since_epoch(entry.modified())),
                }),
                _ => Err(KvError::UnknownKey(key.to_owned())),
            })
        })
        .await
    }

    /// A value's bytes `offset..offset + length`, from one version of it.
    async fn read_value(&self, key: &str, offset: u64, length: u64) -> Result<Bytes, KvError> {
        for _ in 0..OPTIMISTIC_READS {
            let generation = self.fs.generation.get();
            let result = self.read_once(key, offset, length).await;
            if self.fs.generation.get() == generation {
                return result;
            }
        }
        let _writes_wait = self.writer.lock().await;
        self.read_once(key, offset, length).await
    }

    async fn read_once(&self, key: &str, offset: u64, length: u64) -> Result<Bytes, KvError> {
        let info = self.lookup(key).await?;
        if info.directory {
            return Err(KvError::ValueExpected(key.to_owned()));
        }
        let length = length.min(info.size.saturating_sub(offset));
        if length == 0 {
            return Ok(Bytes::new());
        }
        Fs::read(&self.fs, &info.path, offset, length)
            .await
            .map_err(|error| kv_error(key, error))
    }

    /// Makes `key`'s parents and checks what is there: `Ok(true)` when a value is, `Ok(false)`
    /// when nothing is.
    async fn prepare(&self, key: &str, parents: &[&str], name: &str) -> Result<bool, KvError> {
        self.run(key, &WriteOrder::Ascending, |fs| {
            let dir = match walk(fs, key, parents, Walk::Create)? {
                Ok(dir) => dir,
                Err(error) => return Ok(Err(error)),
            };
            Ok(match find_exact(&dir, name)? {
                Found::Entry(entry) if entry.is_dir() => {
                    Err(KvError::ValueExpected(key.to_owned()))
                }
                Found::Entry(_) => Ok(true),
                Found::Missing => Ok(false),
                Found::Conflict(stored) => Err(case_conflict(key, name, &stored)),
            })
        })
        .await
    }

    /// Removes the temporary files named `names` in the directory `parents` name, where any.
    async fn remove_temporaries(
        &self,
        key: &str,
        parents: &[&str],
        names: &[&str],
    ) -> Result<(), KvError> {
        self.run(key, &WriteOrder::TablesLast, |fs| {
            let dir = match walk(fs, key, parents, Walk::Read)? {
                Ok(dir) => dir,
                Err(error) => return Ok(Err(error)),
            };
            for name in names {
                if let Found::Entry(_) = find_exact(&dir, name)? {
                    remove_tree(&dir, name)?;
                }
            }
            Ok(Ok(()))
        })
        .await
    }

    /// `set` and `allocate`: writes the value aside with `fill`, then commits it over `key`
    /// (which must be missing when `must_be_new`).
    async fn replace(
        &self,
        key: &str,
        must_be_new: bool,
        mut fill: impl FnMut(&mut fatfs::File<'_, &mut super::attempt::Attempt<'_>>) -> io::Result<()>,
    ) -> Result<(), KvError> {
        let (parents, name) = writable(key)?;
        let _turn = self.writer.lock().await;
        self.disarm().await?;
        let journal = self.journal().await?;
        let present = match self.prepare(key, &parents, name).await {
            Err(KvError::ValueExpected(_)) if must_be_new => true,
            other => other?,
        };
        if must_be_new && present {
            return Err(KvError::AlreadyPresent(key.to_owned()));
        }
        let fresh = format!("{RESERVED_PREFIX}N.{name}");
        let old = format!("{RESERVED_PREFIX}O.{name}");
        self.remove_temporaries(key, &parents, &[&fresh, &old])
            .await?;
        let written = self
            .run(key, &WriteOrder::Ascending, |fs| {
                let dir = match walk(fs, key, &parents, Walk::Read)? {
                    Ok(dir) => dir,
                    Err(error) => return Ok(Err(error)),
                };
                let mut file = dir.create_file(&fresh)?;
                fill(&mut file)?;
                file.flush()?;
                Ok(Ok(()))
            })
            .await;
        if let Err(error) = written {
            let _ = self.remove_temporaries(key, &parents, &[&fresh]).await;
            return Err(error);
        }
        self.sync().await?;
        self.run(key, &WriteOrder::Journaled(journal), |fs| {
            let dir = match walk(fs, key, &parents, Walk::Read)? {
                Ok(dir) => dir,
                Err(error) => return Ok(Err(error)),
            };
            if let Found::Entry(_) = find_exact(&dir, name)? {
                dir.rename(name, &dir, &old)?;
            }
            dir.rename(&fresh, &dir, name)?;
            Ok(Ok(()))
        })
        .await?;
        if present {
            self.remove_temporaries(key, &parents, &[&old]).await?;
        }
        self.sync().await
    }
}

#[async_trait(?Send)]
impl<B: Block> Device for FatKv<B> {
    /// Disconnects the block device underneath.
    async fn disconnect(&self) {
        self.fs.disconnect().await
    }
}

#[async_trait(?Send)]
impl<B: Block> KvRo for FatKv<B> {
    async fn read(&self, key: &str, offset: u64, length: u64) -> Result<Bytes, KvError> {
        self.read_value(key, offset, length).await
    }

    async fn size(&self, key: &str) -> Result<u64, KvError> {
        let info = self.lookup(key).await?;
        if info.directory {
            return Err(KvError::ValueExpected(key.to_owned()));
        }
        Ok(info.size)
    }

    async fn exists(&self, key: &str) -> Result<Option<Entry>, KvError> {
        match self.lookup(key).await {
            Ok(info) if info.directory => Ok(Some(Entry::Dictionary)),
            Ok(_) => Ok(Some(Entry::Value)),
            Err(KvError::UnknownKey(_) | KvError::DictionaryExpected(_)) => Ok(None),
            Err(other) => Err(other),
        }
    }

    async fn list(&self, key: &str) -> Result<Vec<(String, Entry)>, KvError> {
        let info = self.lookup(key).await?;
        if !info.directory {
            return Err(KvError::DictionaryExpected(key.to_owned()));
        }
        let segments: Vec<String> = key::segments(&info.path)?
            .into_iter()
            .map(str::to_owned)
            .collect();
        let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
        let mut entries = self
            .run(key, &WriteOrder::Ascending, |fs| {
                let dir = match walk(fs, key, &segments, Walk::Read)? {
                    Ok(dir) => dir,
                    Err(error) => return Ok(Err(error)),
                };
                let mut entries = Vec::new();
                for entry in dir.iter() {
                    let entry = entry?;
                    let name = entry.file_name();
                    if name == "." || name == ".." || name.starts_with(RESERVED_PREFIX) {
                        continue;
                    }
                    let kind = if entry.is_dir() {
                        Entry::Dictionary
                    } else {
                        Entry::Value
                    };
                    entries.push((name, kind));
                }
                Ok(Ok(entries))
            })
            .await?;
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(entries)
    }

    async fn get(&self, key: &str) -> Result<Bytes, KvError> {
        self.read_value(key, 0, u64::MAX).await
    }

    /// The modification time FAT keeps (in two-second steps, read as UTC); none for the root.
    async fn last_modified(&self, key: &str) -> Result<Option<Duration>, KvError> {
        Ok(self.lookup(key).await?.modified)
    }
}

#[async_trait(?Send)]
impl<B: Block> KvRw for FatKv<B> {
    async fn set(&self, key: &str, value: &[u8]) -> Result<(), KvError> {
        self.replace(key, false, |file| file.write_all(value)).await
    }

    /// Writes in place through `fatfs` (zeros fill any gap), then flushes the device:
    /// durable, and atomic for other tasks, but a crash may leave part of it written.
    async fn set_partial(&self, key: &str, offset: u64, data: &[u8]) -> Result<(), KvError> {
        let (parents, name) = writable(key)?;
        let _turn = self.writer.lock().await;
        self.disarm().await?;
        self.prepare(key, &parents, name).await?;
        let path = key::write_segments(key)?.join("/");
        Fs::write(&self.fs, &path, offset, data)
            .await
            .map_err(|error| kv_error(key, error))?;
        self.sync().await
    }

    /// Directory entries are removed before the clusters they name are freed: a crash in
    /// between leaves those clusters allocated but unused, never an entry naming free ones.
    async fn remove(&self, key: &str) -> Result<(), KvError> {
        let segments = key::write_segments(key)?;
        let Some((name, parents)) = segments.split_last() else {
            return Err(KvError::invalid_key(key, "the root cannot be removed"));
        };
        if is_reserved(&segments) {
            return Err(KvError::UnknownKey(key.to_owned()));
        }
        let _turn = self.writer.lock().await;
        self.disarm().await?;
        self.run(key, &WriteOrder::TablesLast, |fs| {
            let dir = match walk(fs, key, parents, Walk::Read)? {
                Ok(dir) => dir,
                Err(error) => return Ok(Err(error)),
            };
            match find_exact(&dir, name)? {
                Found::Entry(_) => {
                    remove_tree(&dir, name)?;
                    Ok(Ok(()))
                }
                _ => Ok(Err(KvError::UnknownKey(key.to_owned()))),
            }
        })
        .await?;
        self.sync().await
    }

    /// Commits through the journal, as `set` does; a dictionary moved to another directory
    /// is moved entry by entry within that one commit.
    async fn rename(&self, source: &str, dest: &str) -> Result<(), KvError> {
        let _turn = self.writer.lock().await;
        self.disarm().await?;
        let dest_is_dictionary = self.exists(dest).await? == Some(Entry::Dictionary);
        let Some((from, to)) = key::rename_target(source, dest, dest_is_dictionary)? else {
            return match self.exists(source).await? {
                Some(_) => Ok(()),
                None => Err(KvError::UnknownKey(source.to_owned())),
            };
        };
        let from: Vec<&str> = from.split('/').collect();
        if is_reserved(&from) || self.exists(source).await?.is_none() {
            return Err(KvError::UnknownKey(source.to_owned()));
        }
        let (to_parents, to_name) = writable(&to)?;
        let (from_name, from_parents) = from.split_last().expect("not the root");
        let journal = self.journal().await?;
        let replaced = self
            .prepare(dest, &to_parents, to_name)
            .await
            .or_else(|error| {
                match error {
                    // A dictionary in the way is told apart below, once the source is known.
                    KvError::ValueExpected(_) => Ok(true),
                    other => Err(other),
                }
            })?;
        let old = format!("{RESERVED_PREFIX}O.{to_name}");
        self.remove_temporaries(dest, &to_parents, &[&old]).await?;
        self.run(dest, &WriteOrder::Journaled(journal), |fs| {
            let from_dir = match walk(fs, source, from_parents, Walk::Read)? {
                Ok(dir) => dir,
                Err(error) => return Ok(Err(error)),
            };
            let Found::Entry(moving) = find_exact(&from_dir, from_name)? else {
                return Ok(Err(KvError::UnknownKey(source.to_owned())));
            };
            let to_dir = match walk(fs, dest, &to_parents, Walk::Read)? {
                Ok(dir) => dir,
                Err(error) => return Ok(Err(error)),
            };
            match find_exact(&to_dir, to_name)? {
                Found::Entry(target) if target.is_file() && moving.is_file() => {
                    to_dir.rename(to_name, &to_dir, &old)?;
                }
                Found::Entry(_) => return Ok(Err(KvError::AlreadyPresent(to.clone()))),
                Found::Conflict(stored) => return Ok(Err(case_conflict(dest, to_name, &stored))),
                Found::Missing => {}
            }
            if moving.is_dir() && from_parents != to_parents.as_slice() {
                move_tree(&from_dir, from_name, &to_dir, to_name)?;
            } else {
                from_dir.rename(from_name, &to_dir, to_name)?;
            }
            Ok(Ok(()))
        })
        .await?;
        if replaced {
            self.remove_temporaries(dest, &to_parents, &[&old]).await?;
        }
        self.sync().await
    }

    async fn allocate(
        &self,
        key: &str,
        size: u64,
        last_modified: Option<Duration>,
    ) -> Result<(), KvError> {
        if size > self.fs.device_bytes() {
            return Err(KvError::NoSpace);
        }
        self.replace(key, true, |file| {
            super::ops::write_zeros(file, size)?;
            if let Some(time) = last_modified {
                // A per-file time: `fatfs` would have one set through a time provider for
                // the whole mount instead.
                #[allow(deprecated)]
                file.set_modified(fat_time(time));
            }
            Ok(())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_through_fat() {
        for seconds in [315_532_800u64, 1_456_747_200, 1_764_892_800, 4_354_819_198] {
            let time = Duration::from_secs(seconds);
            assert_eq!(since_epoch(fat_time(time)), time, "{seconds}");
        }
        assert_eq!(since_epoch(fat_time(Duration::ZERO)).as_secs(), 315_532_800);
    }
}
