//! Mirage 4's writes on [`DirectKv`]: temporary file, `fsync`, `rename`, directory `fsync`.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

use super::{DirectKv, blocking, current_root, open_beneath};
use crate::key;
use mirage_types::{Entry, IoError, KvError, KvRw, async_trait};
use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::fs::FileExt;
use std::time::Duration;

/// Names beginning so are the store's own (values being written); no key may use one, and
/// `list` never shows them.
pub(crate) const TEMPORARY_PREFIX: &str = ".~mirage-kv-";

fn c_name(name: &str) -> io::Result<CString> {
    CString::new(name).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))
}

fn check(result: libc::c_int) -> io::Result<()> {
    if result < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// The directory `path` (canonical, `""` the root) beneath `root`, opened for reading;
/// with `create`, missing directories on the way are made (each made one is `fsync`ed into
/// its parent).
fn open_dir(root: &std::os::fd::OwnedFd, path: &str, create: bool) -> io::Result<File> {
    let flags = libc::O_RDONLY | libc::O_DIRECTORY;
    match open_beneath(root, path, flags) {
        Err(error) if create && error.raw_os_error() == Some(libc::ENOENT) => {
            let parent = open_dir(root, path.rsplit_once('/').map_or("", |(dir, _)| dir), true)?;
            let name = c_name(path.rsplit('/').next().unwrap_or(path))?;
            // SAFETY: an open directory and a NUL-terminated name.
            match check(unsafe { libc::mkdirat(parent.as_raw_fd(), name.as_ptr(), 0o755) }) {
                Err(error) if error.raw_os_error() != Some(libc::EEXIST) => return Err(error),
                _ => {}
            }
            parent.sync_all()?;
            open_beneath(root, path, flags)
        }
        other => other,
    }
}

/// What `name` in directory `dir` is, without following a final symbolic link.
fn entry_at(dir: &File, name: &str) -> io::Result<Option<Entry>> {
    let c_name = c_name(name)?;
    // SAFETY: fstatat writes the struct it is given.
    let mut stat: libc::stat = unsafe { std::mem::zeroed() };
    let result = unsafe {
        libc::fstatat(
            dir.as_raw_fd(),
            c_name.as_ptr(),
            &mut stat,
            libc::AT_SYMLINK_NOFOLLOW,
        )
    };
    if result < 0 {
        let error = io::Error::last_os_error();
        return match error.raw_os_error() {
            Some(libc::ENOENT) => Ok(None),
            _ => Err(error),
        };
    }
    Ok(match stat.st_mode & libc::S_IFMT {
        libc::S_IFDIR => Some(Entry::Dictionary),
        _ => Some(Entry::Value),
    })
}

/// Opens (`create`: or makes) file `name` in `dir` for writing, never through a link.
fn open_file_at(dir: &File, name: &str, extra: libc::c_int) -> io::Result<File> {
    let c_name = c_name(name)?;
    // SAFETY: an open directory and a NUL-terminated name; the result is checked.
    let fd = unsafe {
        libc::openat(
            dir.as_raw_fd(),
            c_name.as_ptr(),
            libc::O_WRONLY | libc::O_CLOEXEC | libc::O_NOFOLLOW | libc::O_NONBLOCK | extra,
            0o644,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a fresh descriptor we own.
    let file = unsafe { File::from_raw_fd(fd) };
    if !file.metadata()?.is_file() {
        return Err(io::Error::from_raw_os_error(libc::EISDIR));
    }
    Ok(file)
}

/// Sets a file's modification (and access) time.
fn set_modified(file: &File, time: Duration) -> io::Result<()> {
    let stamp = libc::timespec {
        tv_sec: time.as_secs() as libc::time_t,
        tv_nsec: time.subsec_nanos() as libc::c_long,
    };
    // SAFETY: an open file and two timespecs.
    check(unsafe { libc::futimens(file.as_raw_fd(), [stamp, stamp].as_ptr()) })
}

/// Removes `name` from `dir`, with everything beneath it when it is a directory.
fn remove_at(dir: &File, name: &str) -> io::Result<()> {
    let c_name = c_name(name)?;
    if entry_at(dir, name)? == Some(Entry::Dictionary) {
        // The directory was reached beneath the root; std's removal never follows a link.
        let path = format!("/proc/self/fd/{}/{name}", dir.as_raw_fd());
        std::fs::remove_dir_all(path)
    } else {
        // SAFETY: an open directory and a NUL-terminated name.
        check(unsafe { libc::unlinkat(dir.as_raw_fd(), c_name.as_ptr(), 0) })
    }
}

/// `renameat2(2)` (with `RENAME_NOREPLACE` when `replace` is false).
fn rename_at(
    from_dir: &File,
    from: &str,
    to_dir: &File,
    to: &str,
    replace: bool,
) -> io::Result<()> {
    let (from, to) = (c_name(from)?, c_name(to)?);
    let flags = if replace { 0 } else { libc::RENAME_NOREPLACE };
    // SAFETY: open directories and NUL-terminated names.
    check(unsafe {
        libc::renameat2(
            from_dir.as_raw_fd(),
            from.as_ptr(),
            to_dir.as_raw_fd(),
            to.as_ptr(),
            flags,
        )
    })
}

/// A temporary name no other writer uses at the same time.
fn temporary_name(name: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{TEMPORARY_PREFIX}{}-{n}-{name}", std::process::id())
}

/// A key's canonical parent and last segment, refusing the root and the store's own names.
fn split_key(key: &str) -> Result<(String, String), KvError> {
    let segments = key::write_segments(key)?;
    let Some((name, parents)) = segments.split_last() else {
        return Err(KvError::invalid_key(key, "the root is not a value"));
    };
    if segments.iter().any(|s| s.starts_with(TEMPORARY_PREFIX)) {
        return Err(KvError::invalid_key(
            key,
            format!("names beginning {TEMPORARY_PREFIX} are the store's own"),
        ));
    }
    if name.len() > 255 {
        return Err(KvError::invalid_key(key, "a name is longer than 255 bytes"));
    }
    Ok((parents.join("/"), (*name).to_owned()))
}

/// Maps a write's failure to the store's error for `key`.
fn write_error(key: &str, error: io::Error) -> KvError {
    match error.raw_os_error() {
        Some(libc::EEXIST) => KvError::AlreadyPresent(key.to_owned()),
        Some(libc::ENOTDIR) => KvError::DictionaryExpected(key.to_owned()),
        Some(libc::EISDIR) => KvError::ValueExpected(key.to_owned()),
        Some(libc::ENOSPC | libc::EDQUOT | libc::EFBIG) => KvError::NoSpace,
        Some(libc::ENOENT | libc::EXDEV | libc::ELOOP) => KvError::UnknownKey(key.to_owned()),
        Some(libc::ENAMETOOLONG) => KvError::invalid_key(key, "the name is too long"),
        Some(libc::EROFS) => KvError::ReadOnly,
        _ => KvError::Io(IoError::new(format!("writing key {key}"), error)),
    }
}

impl DirectKv {
    /// Runs `work` with the directory that holds `key` (made where `create`) and the key's
    /// last segment, on the blocking pool.
    async fn in_parent<T: Send + 'static>(
        &self,
        key: &str,
        create: bool,
        work: impl FnOnce(&File, &str) -> io::Result<T> + Send + 'static,
    ) -> Result<T, KvError> {
        let (parent, name) = split_key(key)?;
        let roots = self.root.clone();
        let path = self.path.clone();
        let owned_key = key.to_owned();
        blocking(move || {
            let root = current_root(&roots, &path);
            let dir = open_dir(&root, &parent, create)?;
            work(&dir, &name)
        })
        .await
        .map_err(|error| write_error(&owned_key, error))
    }
}

#[async_trait(?Send)]
impl KvRw for DirectKv {
    /// Writes a temporary file beside the value, `fsync`s it, renames it over the value and
    /// `fsync`s the directory: a crash leaves the old value or the new one (and perhaps the
    /// temporary file, which `list` does not show).
    async fn set(&self, key: &str, value: &[u8]) -> Result<(), KvError> {
        let value = value.to_vec();
        self.in_parent(key, true, move |dir, name| {
            if entry_at(dir, name)? == Some(Entry::Dictionary) {
                return Err(io::Error::from_raw_os_error(libc::EISDIR));
            }
            let temporary = temporary_name(name);
            let written = (|| {
                let file = open_file_at(dir, &temporary, libc::O_CREAT | libc::O_EXCL)?;
                file.write_all_at(&value, 0)?;
                file.sync_all()?;
                rename_at(dir, &temporary, dir, name, true)
            })();
            if let Err(error) = written {
                let _ = remove_at(dir, &temporary);
                return Err(error);
            }
            dir.sync_all()
        })
        .await
    }

    /// Writes in place (`pwrite`, then `fsync`): durable, not atomic.
    async fn set_partial(&self, key: &str, offset: u64, data: &[u8]) -> Result<(), KvError> {
        let data = data.to_vec();
        self.in_parent(key, true, move |dir, name| {
            let created = entry_at(dir, name)?.is_none();
            let file = open_file_at(dir, name, libc::O_CREAT)?;
            let end = offset
                .checked_add(data.len() as u64)
                .ok_or_else(|| io::Error::from_raw_os_error(libc::EFBIG))?;
            if file.metadata()?.len() < end {
                file.set_len(end)?;
            }
            file.write_all_at(&data, offset)?;
            file.sync_all()?;
            if created {
                dir.sync_all()?;
            }
            Ok(())
        })
        .await
    }

    async fn remove(&self, key: &str) -> Result<(), KvError> {
        self.in_parent(key, false, |dir, name| {
            if entry_at(dir, name)?.is_none() {
                return Err(io::Error::from_raw_os_error(libc::ENOENT));
            }
            remove_at(dir, name)?;
            dir.sync_all()
        })
        .await
    }

    /// `renameat2` between the two directories, then both are `fsync`ed.
    async fn rename(&self, source: &str, dest: &str) -> Result<(), KvError> {
        let dest_is_dictionary =
            mirage_types::KvRo::exists(self, dest).await? == Some(Entry::Dictionary);
        let Some((from, to)) = key::rename_target(source, dest, dest_is_dictionary)? else {
            return match mirage_types::KvRo::exists(self, source).await? {
                Some(_) => Ok(()),
                None => Err(KvError::UnknownKey(source.to_owned())),
            };
        };
        let (from_parent, from_name) = split_key(&from)?;
        let (to_parent, to_name) = split_key(&to)?;
        let roots = self.root.clone();
        let path = self.path.clone();
        let (source_key, target_key) = (source.to_owned(), to.clone());
        blocking(move || {
            let root = current_root(&roots, &path);
            let from_dir = open_dir(&root, &from_parent, false)?;
            let Some(moving) = entry_at(&from_dir, &from_name)? else {
                return Ok(Err(KvError::UnknownKey(source_key)));
            };
            let to_dir = open_dir(&root, &to_parent, true)?;
            let replace = match entry_at(&to_dir, &to_name)? {
                None => false,
                Some(Entry::Value) if moving == Entry::Value => true,
                Some(_) => return Ok(Err(KvError::AlreadyPresent(target_key))),
            };
            rename_at(&from_dir, &from_name, &to_dir, &to_name, replace)?;
            to_dir.sync_all()?;
            from_dir.sync_all()?;
            Ok(Ok(()))
        })
        .await
        .map_err(|error| write_error(dest, error))?
    }

    async fn allocate(
        &self,
        key: &str,
        size: u64,
        last_modified: Option<Duration>,
    ) -> Result<(), KvError> {
        self.in_parent(key, true, move |dir, name| {
            if entry_at(dir, name)?.is_some() {
                return Err(io::Error::from_raw_os_error(libc::EEXIST));
            }
            let file = open_file_at(dir, name, libc::O_CREAT | libc::O_EXCL)?;
            file.set_len(size)?;
            if let Some(time) = last_modified {
                set_modified(&file, time)?;
            }
            file.sync_all()?;
            dir.sync_all()
        })
        .await
    }
}
