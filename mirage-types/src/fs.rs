//! V1 `FS`: a read-write filesystem.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

use crate::{BlockError, Device, ErrorKind};
use async_trait::async_trait;
use bytes::Bytes;
use thiserror::Error;

/// Errors of a filesystem: V1's nine variants.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum FsError {
    /// V1 `Not_a_directory`: a path component is a file.
    #[error("not a directory: {0}")]
    NotADirectory(String),
    /// V1 `Is_a_directory`: a file operation on a directory.
    #[error("is a directory: {0}")]
    IsADirectory(String),
    /// V1 `Directory_not_empty`.
    #[error("directory not empty: {0}")]
    DirectoryNotEmpty(String),
    /// V1 `No_directory_entry (dir, name)`.
    #[error("no entry {name:?} in directory {dir:?}")]
    NoDirectoryEntry {
        /// The directory searched.
        dir: String,
        /// The name not found.
        name: String,
    },
    /// V1 `File_already_exists`.
    #[error("file already exists: {0}")]
    FileAlreadyExists(String),
    /// V1 `No_space`.
    #[error("no space left on the filesystem")]
    NoSpace,
    /// V1 `Format_not_recognised`: the device does not hold this filesystem (or it is
    /// corrupted).
    #[error("filesystem format not recognised: {0}")]
    FormatNotRecognised(String),
    /// V1 `Unknown_error`.
    #[error("filesystem error: {0}")]
    UnknownError(String),
    /// V1 `Block_device`: the device underneath failed.
    #[error("block device error: {0}")]
    BlockDevice(#[from] BlockError),
}

impl FsError {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            FsError::NotADirectory(_) | FsError::IsADirectory(_) => ErrorKind::WrongEntryKind,
            FsError::DirectoryNotEmpty(_) => ErrorKind::NotEmpty,
            FsError::NoDirectoryEntry { .. } => ErrorKind::NotFound,
            FsError::FileAlreadyExists(_) => ErrorKind::AlreadyExists,
            FsError::NoSpace => ErrorKind::NoSpace,
            FsError::FormatNotRecognised(_) => ErrorKind::Corrupted,
            FsError::UnknownError(_) => ErrorKind::Other,
            FsError::BlockDevice(error) => error.kind(),
        }
    }
}

/// V1 `FS.stat`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stat {
    /// The entry's name (last path component).
    pub filename: String,
    /// Whether it is read-only.
    pub read_only: bool,
    /// Whether it is a directory.
    pub directory: bool,
    /// Size in bytes (0 for directories).
    pub size: u64,
}

/// V1 `FS`: files and directories addressed by `/`-separated paths.
///
/// ```
/// use mirage_types::{Fs, FsError};
///
/// /// Appends a line to a log file, creating it (and its directory) the first time.
/// async fn append<F: Fs>(fs: &F, line: &str) -> Result<(), FsError> {
///     let size = match fs.size("logs/app.log").await {
///         Ok(size) => size,
///         Err(_) => 0,
///     };
///     fs.write("logs/app.log", size, format!("{line}\n").as_bytes()).await
/// }
/// ```
#[async_trait(?Send)]
pub trait Fs: Device {
    /// V1 `read path offset length`: at most `length` bytes from `offset`; fewer means the
    /// end of the file.
    async fn read(&self, path: &str, offset: u64, length: u64) -> Result<Bytes, FsError>;

    /// V1 `size`: the file's length in bytes.
    async fn size(&self, path: &str) -> Result<u64, FsError>;

    /// V1 `format size`: erases the device and makes an empty filesystem of `size` bytes.
    async fn format(&self, size: u64) -> Result<(), FsError>;

    /// V1 `create`: makes an empty file, creating parent directories.
    async fn create(&self, path: &str) -> Result<(), FsError>;

    /// V1 `mkdir`: makes a directory and its parents; an existing directory is fine.
    async fn mkdir(&self, path: &str) -> Result<(), FsError>;

    /// V1 `destroy`: removes a file or an empty directory.
    async fn destroy(&self, path: &str) -> Result<(), FsError>;

    /// V1 `stat`.
    async fn stat(&self, path: &str) -> Result<Stat, FsError>;

    /// V1 `listdir`: the names in a directory.
    async fn listdir(&self, path: &str) -> Result<Vec<String>, FsError>;

    /// V1 `write path offset data`: writes `data` at `offset`, creating the file and its
    /// parents, extending the file as needed.
    async fn write(&self, path: &str, offset: u64, data: &[u8]) -> Result<(), FsError>;

    /// Makes every write that has returned durable: flushes what the filesystem and the
    /// device below hold in volatile caches. (V1 has no such call; MirageOS 4's stores flush
    /// in each write. Generic code calls it where a write must survive a crash.)
    async fn sync(&self) -> Result<(), FsError>;

    /// The entries of directory `path` with their details: `listdir`, then `stat` of each.
    /// Backends that read a directory's details in one pass override it.
    async fn listdir_stat(&self, path: &str) -> Result<Vec<Stat>, FsError> {
        let mut stats = Vec::new();
        for name in self.listdir(path).await? {
            let child = format!("{}/{name}", path.trim_end_matches('/'));
            stats.push(self.stat(&child).await?);
        }
        Ok(stats)
    }
}
