//! V1's `Fs` operations on [`FatFs`].

#[allow(unused_imports)]
use crate::alloc_prelude::*;

use super::FatFs;
use bytes::Bytes;
use fatfs::{Dir, FileSystem, FormatVolumeOptions, FsOptions, ReadWriteSeek};
use mirage_types::{Block, Device, Fs, FsError, Stat, async_trait};
use std::io::{self, Read, Seek, SeekFrom, Write};

/// `path` without leading, trailing or doubled `/`; `""` is the root.
fn clean(path: &str) -> String {
    path.split('/')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("/")
}

fn parent(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(dir, _)| dir)
}

fn open_dir<'a, T: ReadWriteSeek>(fs: &'a FileSystem<T>, path: &str) -> io::Result<Dir<'a, T>> {
    if path.is_empty() {
        Ok(fs.root_dir())
    } else {
        fs.root_dir().open_dir(path)
    }
}

/// Creates `path` and every directory above it; existing directories are fine.
fn make_dirs<T: ReadWriteSeek>(fs: &FileSystem<T>, path: &str) -> io::Result<()> {
    let mut dir = fs.root_dir();
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        dir = match find(&dir, segment)? {
            Some(entry) if entry.is_dir() => entry.to_dir(),
            Some(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    "a file is in the way",
                ));
            }
            None => dir.create_dir(segment)?,
        };
    }
    Ok(())
}

/// The entry called `name` in `dir` (names compare without case, as FAT does).
fn find<'a, T: ReadWriteSeek>(
    dir: &Dir<'a, T>,
    name: &str,
) -> io::Result<Option<fatfs::DirEntry<'a, T>>> {
    for entry in dir.iter() {
        let entry = entry?;
        if entry.file_name().eq_ignore_ascii_case(name) {
            return Ok(Some(entry));
        }
    }
    Ok(None)
}

fn stat_of<T: ReadWriteSeek>(fs: &FileSystem<T>, path: &str) -> io::Result<Stat> {
    if path.is_empty() {
        return Ok(Stat {
            filename: "/".into(),
            read_only: false,
            directory: true,
            size: 0,
        });
    }
    let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
    let entry = find(&open_dir(fs, dir)?, name)?
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "No such file or directory"))?;
    Ok(Stat {
        filename: entry.file_name(),
        read_only: entry
            .attributes()
            .contains(fatfs::FileAttributes::READ_ONLY),
        directory: entry.is_dir(),
        size: if entry.is_dir() { 0 } else { entry.len() },
    })
}

/// Reads file `path` from `offset` into `out` until `out` is full or the file ends: how
/// many bytes it read.
pub(super) fn read_file<T: ReadWriteSeek>(
    fs: &FileSystem<T>,
    path: &str,
    offset: u64,
    out: &mut [u8],
) -> io::Result<usize> {
    let mut file = fs.root_dir().open_file(path)?;
    file.seek(SeekFrom::Start(offset))?;
    let mut got = 0;
    while got < out.len() {
        match file.read(&mut out[got..])? {
            0 => break,
            n => got += n,
        }
    }
    Ok(got)
}

/// Writes `count` zero bytes at the file's position.
pub(super) fn write_zeros(file: &mut impl Write, count: u64) -> io::Result<()> {
    let zeros = [0u8; 4096];
    let mut left = count;
    while left > 0 {
        let n = left.min(zeros.len() as u64) as usize;
        file.write_all(&zeros[..n])?;
        left -= n as u64;
    }
    Ok(())
}

fn is_a_directory() -> io::Error {
    io::Error::other("Is a directory")
}

#[async_trait(?Send)]
impl<B: Block> Device for FatFs<B> {
    /// Disconnects the block device underneath.
    async fn disconnect(&self) {
        self.block.disconnect().await
    }
}

#[async_trait(?Send)]
impl<B: Block> Fs for FatFs<B> {
    async fn read(&self, path: &str, offset: u64, length: u64) -> Result<Bytes, FsError> {
        let path = clean(path);
        let stat = self.stat(&path).await?;
        if stat.directory {
            return Err(FsError::IsADirectory(path));
        }
        // A size field may lie (a corrupted image): never allocate beyond what the device holds.
        let want = length
            .min(stat.size.saturating_sub(offset))
            .min(self.device_bytes()) as usize;
        if stat.size >= super::extents::EXTENTS_FROM
            && want > 0
            && let Some(data) = self.read_mapped(&path, stat.size, offset, want).await?
        {
            return Ok(Bytes::from(data));
        }
        let mut data = vec![0u8; want];
        let generation = self.generation.get();
        let (got, trace) = self
            .attempts(&path, &mut data, true, |disk, out| {
                let fs = FileSystem::new(disk, FsOptions::new())?;
                let got = read_file(&fs, &path, offset, out)?;
                fs.unmount()?;
                Ok(got)
            })
            .await?;
        if offset == 0 && got as u64 == stat.size && stat.size >= super::extents::EXTENTS_FROM {
            self.remember_extents(&path, stat.size, generation, &trace);
        }
        data.truncate(got);
        Ok(Bytes::from(data))
    }

    async fn size(&self, path: &str) -> Result<u64, FsError> {
        let stat = self.stat(path).await?;
        if stat.directory {
            return Err(FsError::IsADirectory(clean(path)));
        }
        Ok(stat.size)
    }

    async fn format(&self, size: u64) -> Result<(), FsError> {
        let sector_size = self.info.sector_size;
        let sectors = size / u64::from(sector_size);
        if sectors > self.info.size_sectors {
            return Err(FsError::NoSpace);
        }
        let total = u32::try_from(sectors)
            .map_err(|_| FsError::UnknownError(format!("{size} bytes is too large for FAT")))?;
        self.transact("/", &mut [], |disk, _| {
            let options = FormatVolumeOptions::new()
                .bytes_per_sector(sector_size as u16)
                .total_sectors(total)
                .volume_label(*b"MIRAGE     ");
            fatfs::format_volume(disk, options)
        })
        .await
        .map_err(|error| match error {
            FsError::UnknownError(message) => FsError::FormatNotRecognised(message),
            other => other,
        })?;
        self.cache.borrow_mut().clear_clean();
        self.read_layout().await?;
        Ok(())
    }

    async fn create(&self, path: &str) -> Result<(), FsError> {
        let path = clean(path);
        self.with_fs(&path, |fs| {
            make_dirs(fs, parent(&path))?;
            if stat_of(fs, &path).is_ok() {
                return Err(io::Error::new(io::ErrorKind::AlreadyExists, "File exists"));
            }
            fs.root_dir().create_file(&path).map(drop)
        })
        .await
    }

    async fn mkdir(&self, path: &str) -> Result<(), FsError> {
        let path = clean(path);
        self.with_fs(&path, |fs| make_dirs(fs, &path)).await
    }

    async fn destroy(&self, path: &str) -> Result<(), FsError> {
        let path = clean(path);
        if path.is_empty() {
            return Err(FsError::UnknownError(
                "the root directory cannot be removed".into(),
            ));
        }
        // Directory entry first, then the freed clusters: a crash between leaks them.
        self.with_fs_ordered(&path, &super::WriteOrder::TablesLast, |fs| {
            fs.root_dir().remove(&path)
        })
        .await
    }

    async fn stat(&self, path: &str) -> Result<Stat, FsError> {
        let path = clean(path);
        self.with_fs(&path, |fs| stat_of(fs, &path)).await
    }

    async fn listdir(&self, path: &str) -> Result<Vec<String>, FsError> {
        Ok(self
            .listdir_stat(path)
            .await?
            .into_iter()
            .map(|stat| stat.filename)
            .collect())
    }

    /// One pass over the directory.
    async fn listdir_stat(&self, path: &str) -> Result<Vec<Stat>, FsError> {
        let path = clean(path);
        self.with_fs(&path, |fs| {
            let mut stats = Vec::new();
            for entry in open_dir(fs, &path)?.iter() {
                let entry = entry?;
                let filename = entry.file_name();
                if filename == "." || filename == ".." {
                    continue;
                }
                stats.push(Stat {
                    read_only: entry
                        .attributes()
                        .contains(fatfs::FileAttributes::READ_ONLY),
                    directory: entry.is_dir(),
                    size: if entry.is_dir() { 0 } else { entry.len() },
                    filename,
                });
            }
            Ok(stats)
        })
        .await
    }

    /// Every completed operation is already written to the device; this flushes the device's
    /// own cache.
    async fn sync(&self) -> Result<(), FsError> {
        Ok(self.block.flush().await?)
    }

    async fn write(&self, path: &str, offset: u64, data: &[u8]) -> Result<(), FsError> {
        let path = clean(path);
        if path.is_empty() {
            return Err(FsError::IsADirectory("/".into()));
        }
        self.with_fs(&path, |fs| {
            make_dirs(fs, parent(&path))?;
            if stat_of(fs, &path).is_ok_and(|stat| stat.directory) {
                return Err(is_a_directory());
            }
            let mut file = fs.root_dir().create_file(&path)?;
            let len = file.seek(SeekFrom::End(0))?;
            if offset > len {
                write_zeros(&mut file, offset - len)?;
            }
            file.seek(SeekFrom::Start(offset))?;
            file.write_all(data)?;
            file.flush()
        })
        .await
    }
}
