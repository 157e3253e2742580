//! Direct: a host directory, read live, that no key can escape.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

mod write;

use crate::blocking::blocking;
use crate::key;
use bytes::Bytes;
use mirage_types::{Device, Entry, IoError, KvError, KvRo, async_trait};
use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// `openat2(2)`'s `struct open_how`.
#[repr(C)]
struct OpenHow {
    flags: u64,
    mode: u64,
    resolve: u64,
}

const SYS_OPENAT2: libc::c_long = 437;
/// Resolution may not leave the starting directory, by `..` or by a symbolic link.
const RESOLVE_BENEATH: u64 = 0x08;
/// Nor through `/proc` magic links.
const RESOLVE_NO_MAGICLINKS: u64 = 0x02;

/// A store over a host directory, read live (Mirage's `direct` store): `KvRo`, and Mirage
/// 4's `KvRw` for applications that write.
///
/// Every key is resolved by the kernel beneath the directory (`openat2` with
/// `RESOLVE_BENEATH`): `..`, absolute paths, NUL bytes, and symbolic links that lead outside
/// are all refused as unknown keys, with no window between checking and opening. Symbolic
/// links that stay inside are followed. File I/O runs on tokio's blocking pool.
///
/// Only regular files are values: a FIFO, a device or a socket under the directory is an
/// unknown key, and is never opened for reading (so it cannot hang the store). If the
/// directory is deleted and made again under the same path, the store follows it to the new
/// one.
///
/// Writes resolve the key's directory the same way (making missing directories), and a
/// [`KvRw::set`](mirage_types::KvRw::set) writes a temporary file beside the value, `fsync`s
/// it, renames it over the value and `fsync`s the directory: readers and crashes see the old
/// value or the new one. Temporary names begin `.~mirage-kv-`; keys may not, and `list`
/// never shows them.
///
/// ```
/// use mirage_kv::DirectKv;
/// use mirage_types::{KvRo, KvRw};
///
/// let dir = tempfile::tempdir().unwrap();
/// mirage_unix::run(async {
///     let store = DirectKv::connect(dir.path()).await.unwrap();
///     store.set("notes/today", b"hello").await.unwrap();
///     assert_eq!(store.get("notes/today").await.unwrap(), "hello");
/// });
/// assert_eq!(std::fs::read(dir.path().join("notes/today")).unwrap(), b"hello");
/// ```
#[derive(Clone)]
pub struct DirectKv {
    root: Arc<std::sync::Mutex<Arc<OwnedFd>>>,
    path: PathBuf,
}

/// Opens directory `path` as a root for `openat2`.
fn open_root(path: &Path) -> io::Result<OwnedFd> {
    let c_path = CString::new(path.as_os_str().as_encoded_bytes())
        .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: a NUL-terminated path; the descriptor is checked below.
    let fd = unsafe {
        libc::open(
            c_path.as_ptr(),
            libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a fresh descriptor we own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Whether the directory `root` refers to has been deleted (no links left).
fn deleted(root: &OwnedFd) -> bool {
    // SAFETY: fstat writes the struct it is given; the descriptor is open.
    let mut stat: libc::stat = unsafe { std::mem::zeroed() };
    unsafe { libc::fstat(root.as_raw_fd(), &mut stat) == 0 && stat.st_nlink == 0 }
}

impl DirectKv {
    /// Opens the directory `path`.
    pub async fn connect(path: impl AsRef<Path>) -> Result<Self, KvError> {
        let path = path.as_ref().to_path_buf();
        let for_open = path.clone();
        let root = blocking(move || open_root(&for_open))
            .await
            .map_err(|e| KvError::Io(IoError::new(format!("opening {}", path.display()), e)))?;
        Ok(DirectKv {
            root: Arc::new(std::sync::Mutex::new(Arc::new(root))),
            path,
        })
    }

    /// The directory served.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Opens `key` beneath the root with `flags`, on the blocking pool.
    async fn open<T: Send + 'static>(
        &self,
        key: &str,
        flags: i32,
        then: impl FnOnce(File) -> io::Result<T> + Send + 'static,
    ) -> Result<T, KvError> {
        let relative = key::normalise(key)?;
        let roots = self.root.clone();
        let path = self.path.clone();
        let owned_key = key.to_owned();
        blocking(move || {
            let root = current_root(&roots, &path);
            then(open_beneath(&root, &relative, flags)?)
        })
        .await
        .map_err(|error| classify(&owned_key, error))
    }
}

/// The root to resolve beneath: the one opened, or, once that directory has been deleted
/// and another made at the same path, the new one.
fn current_root(roots: &std::sync::Mutex<Arc<OwnedFd>>, path: &Path) -> Arc<OwnedFd> {
    let mut root = roots.lock().unwrap_or_else(|e| e.into_inner());
    if deleted(&root)
        && let Ok(fresh) = open_root(path)
    {
        *root = Arc::new(fresh);
    }
    root.clone()
}

fn open_beneath(root: &OwnedFd, relative: &str, flags: i32) -> io::Result<File> {
    let path = if relative.is_empty() { "." } else { relative };
    let c_path = CString::new(path).map_err(|_| io::Error::from(io::ErrorKind::NotFound))?;
    let how = OpenHow {
        flags: (flags | libc::O_CLOEXEC) as u64,
        mode: 0,
        resolve: RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
    };
    // SAFETY: valid pointers for the call; the result is checked.
    let fd = unsafe {
        libc::syscall(
            SYS_OPENAT2,
            root.as_raw_fd(),
            c_path.as_ptr(),
            &how as *const OpenHow,
            std::mem::size_of::<OpenHow>(),
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a fresh descriptor we own.
    Ok(unsafe { File::from_raw_fd(fd as i32) })
}

/// A key that resolves to nothing, or outside the root, is unknown; anything else is a
/// failure of the store.
fn classify(key: &str, error: io::Error) -> KvError {
    match error.raw_os_error() {
        Some(
            libc::ENOENT
            | libc::EXDEV
            | libc::ELOOP
            | libc::ENOTDIR
            | libc::EACCES
            | libc::EPERM
            | libc::ENAMETOOLONG,
        ) => KvError::UnknownKey(key.to_owned()),
        Some(libc::EISDIR) => KvError::ValueExpected(key.to_owned()),
        _ => KvError::Io(IoError::new(format!("reading key {key}"), error)),
    }
}

fn kind(file: &File) -> io::Result<Option<Entry>> {
    let file_type = file.metadata()?.file_type();
    Ok(if file_type.is_dir() {
        Some(Entry::Dictionary)
    } else if file_type.is_file() {
        Some(Entry::Value)
    } else {
        None
    })
}

fn regular(file: &File) -> io::Result<u64> {
    let metadata = file.metadata()?;
    if metadata.is_dir() {
        return Err(io::Error::from_raw_os_error(libc::EISDIR));
    }
    if !metadata.is_file() {
        return Err(io::Error::from_raw_os_error(libc::ENOENT));
    }
    Ok(metadata.len())
}

#[async_trait(?Send)]
impl Device for DirectKv {
    async fn disconnect(&self) {}
}

#[async_trait(?Send)]
impl KvRo for DirectKv {
    async fn read(&self, key: &str, offset: u64, length: u64) -> Result<Bytes, KvError> {
        // Non-blocking, so that opening a FIFO never waits for a writer; `regular` then
        // refuses it.
        self.open(key, libc::O_RDONLY | libc::O_NONBLOCK, move |file| {
            let size = regular(&file)?;
            let want = length.min(size.saturating_sub(offset)) as usize;
            let mut data = vec![0u8; want];
            let mut filled = 0;
            while filled < want {
                match file.read_at(&mut data[filled..], offset + filled as u64)? {
                    0 => break, // the file shrank meanwhile
                    n => filled += n,
                }
            }
            data.truncate(filled);
            Ok(Bytes::from(data))
        })
        .await
    }

    async fn size(&self, key: &str) -> Result<u64, KvError> {
        self.open(key, libc::O_PATH, |file| regular(&file)).await
    }

    async fn exists(&self, key: &str) -> Result<Option<Entry>, KvError> {
        match self.open(key, libc::O_PATH, |file| kind(&file)).await {
            Ok(entry) => Ok(entry),
            Err(KvError::UnknownKey(_)) => Ok(None),
            Err(other) => Err(other),
        }
    }

    async fn list(&self, key: &str) -> Result<Vec<(String, Entry)>, KvError> {
        if self.exists(key).await? == Some(Entry::Value) {
            return Err(KvError::DictionaryExpected(key.to_owned()));
        }
        let root = current_root(&self.root, &self.path);
        let prefix = key::normalise(key)?;
        self.open(key, libc::O_RDONLY | libc::O_DIRECTORY, move |dir| {
            let names = std::fs::read_dir(format!("/proc/self/fd/{}", dir.as_raw_fd()))?;
            let mut entries = Vec::new();
            for name in names {
                let name = name?.file_name().to_string_lossy().into_owned();
                if name.starts_with(write::TEMPORARY_PREFIX) {
                    continue;
                }
                let child = if prefix.is_empty() {
                    name.clone()
                } else {
                    format!("{prefix}/{name}")
                };
                // Entries that lead outside (a symbolic link to /etc, say) are not listed.
                if let Ok(file) = open_beneath(&root, &child, libc::O_PATH)
                    && let Some(entry) = kind(&file)?
                {
                    entries.push((name, entry));
                }
            }
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Ok(entries)
        })
        .await
    }

    async fn get(&self, key: &str) -> Result<Bytes, KvError> {
        self.read(key, 0, u64::MAX).await
    }

    /// The file's (or directory's) modification time.
    async fn last_modified(&self, key: &str) -> Result<Option<std::time::Duration>, KvError> {
        self.open(key, libc::O_PATH, |file| {
            let modified = file.metadata()?.modified()?;
            Ok(modified.duration_since(std::time::UNIX_EPOCH).ok())
        })
        .await
    }
}
