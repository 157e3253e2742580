//! Building a filesystem image from a host directory (Mirage's `make-fat1-image.sh`).

#[allow(unused_imports)]
use crate::alloc_prelude::*;

use crate::blocking::blocking;
use mirage_types::{Fs, FsError};
use std::io;
use std::path::{Path, PathBuf};

/// Bytes a FAT image needs to hold `dir`: every file and directory rounded up to 4 KiB
/// clusters, plus room for the FATs, the root directory and long names. A starting point:
/// [`populate`] reports [`FsError::NoSpace`] if it is not enough.
pub fn estimate_size(dir: &Path) -> io::Result<u64> {
    const CLUSTER: u64 = 4096;
    let mut total = 0;
    for (_, path) in tree(dir)? {
        let metadata = std::fs::metadata(&path).map_err(|e| at(&path, e))?;
        total += metadata.len().div_ceil(CLUSTER).max(1) * CLUSTER + 256;
    }
    // FATs (4 bytes per cluster, twice), reserved sectors, root directory, and slack.
    let clusters = total / CLUSTER;
    Ok((total + clusters * 8 + 256 * 1024) * 11 / 10)
}

/// Copies every file and directory under `dir` into `fs` (whose root stands for `dir`).
///
/// Only regular files and directories are copied (symbolic links are followed to them); a
/// FIFO, a device or a socket is refused with an error naming it, as are two names that
/// differ only in case (FAT cannot hold both).
pub async fn populate<F: Fs>(fs: &F, dir: &Path) -> Result<(), FsError> {
    let entries = tree(dir).map_err(|e| FsError::UnknownError(e.to_string()))?;
    for (relative, path) in entries {
        if path.is_dir() {
            fs.mkdir(&relative).await?;
        } else {
            copy_file(fs, &relative, path).await?;
        }
    }
    Ok(())
}

/// The bytes [`populate`] copies at a time: what it holds of a file, whatever the file's size.
const COPY_CHUNK: usize = 16 << 20;

/// Copies host file `path` to `relative` in `fs`, [`COPY_CHUNK`] bytes at a time through one
/// buffer.
async fn copy_file<F: Fs>(fs: &F, relative: &str, path: PathBuf) -> Result<(), FsError> {
    let failed = |e: io::Error| FsError::UnknownError(e.to_string());
    let mut file = blocking(move || open_regular(&path))
        .await
        .map_err(failed)?;
    fs.create(relative).await?;
    let mut buffer = Vec::with_capacity(COPY_CHUNK);
    let mut offset = 0;
    loop {
        (file, buffer) = blocking(move || {
            let mut buffer = buffer;
            read_chunk(&mut file.0, &file.1, &mut buffer)?;
            Ok((file, buffer))
        })
        .await
        .map_err(failed)?;
        if buffer.is_empty() {
            return Ok(());
        }
        fs.write(relative, offset, &buffer).await?;
        offset += buffer.len() as u64;
    }
}

/// Up to [`COPY_CHUNK`] more bytes of `file` into `buffer` (left empty at the file's end).
fn read_chunk(file: &mut std::fs::File, path: &Path, buffer: &mut Vec<u8>) -> io::Result<()> {
    use std::io::Read;
    buffer.clear();
    file.by_ref()
        .take(COPY_CHUNK as u64)
        .read_to_end(buffer)
        .map_err(|e| at(path, e))?;
    Ok(())
}

/// An error about `path`, naming it.
fn at(path: &Path, error: io::Error) -> io::Error {
    io::Error::new(error.kind(), format!("{}: {error}", path.display()))
}

/// `path` opened for reading if it is a regular file: opened without blocking (a FIFO that
/// appeared since the walk would otherwise wait for a writer), then checked on the
/// descriptor itself. With its path, for errors.
fn open_regular(path: &Path) -> io::Result<(std::fs::File, PathBuf)> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| at(path, e))?;
    let metadata = file.metadata().map_err(|e| at(path, e))?;
    if !metadata.is_file() {
        return Err(not_regular(path));
    }
    Ok((file, path.to_path_buf()))
}

fn not_regular(path: &Path) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!(
            "{} is not a regular file or directory (a FIFO, device or socket): refusing to copy it",
            path.display()
        ),
    )
}

/// Every file and directory under `dir`, parents before children, sorted by name, as
/// (`/`-separated path relative to `dir`, host path). Symbolic links are followed; anything
/// but regular files and directories is an error, and so are names in one directory that
/// differ only in case.
fn tree(dir: &Path) -> io::Result<Vec<(String, PathBuf)>> {
    let mut out = Vec::new();
    let mut pending = vec![(String::new(), dir.to_path_buf())];
    while let Some((prefix, path)) = pending.pop() {
        let mut children: Vec<_> = std::fs::read_dir(&path)
            .map_err(|e| at(&path, e))?
            .collect::<Result<_, _>>()
            .map_err(|e| at(&path, e))?;
        children.sort_by_key(|entry| entry.file_name());
        let mut folded = std::collections::HashMap::new();
        for entry in &children {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(other) = folded.insert(name.to_lowercase(), name.clone()) {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!(
                        "{} and {} differ only in case, which FAT does not tell apart",
                        path.join(other).display(),
                        path.join(&name).display()
                    ),
                ));
            }
        }
        for entry in children.into_iter().rev() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let relative = if prefix.is_empty() {
                name
            } else {
                format!("{prefix}/{name}")
            };
            let metadata = std::fs::metadata(entry.path()).map_err(|e| at(&entry.path(), e))?;
            if metadata.is_dir() {
                pending.push((relative.clone(), entry.path()));
            } else if !metadata.is_file() {
                return Err(not_regular(&entry.path()));
            }
            out.push((relative, entry.path()));
        }
    }
    out.sort();
    Ok(out)
}
