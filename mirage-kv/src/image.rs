//! Building a filesystem image from a host directory (Mirage's `make-fat1-image.sh`).

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
        let metadata = std::fs::metadata(&path)?;
        total += metadata.len().div_ceil(CLUSTER).max(1) * CLUSTER + 256;
    }
    // FATs (4 bytes per cluster, twice), reserved sectors, root directory, and slack.
    let clusters = total / CLUSTER;
    Ok((total + clusters * 8 + 256 * 1024) * 11 / 10)
}

/// Copies every file and directory under `dir` into `fs` (whose root stands for `dir`).
pub async fn populate<F: Fs>(fs: &F, dir: &Path) -> Result<(), FsError> {
    let entries =
        tree(dir).map_err(|e| FsError::UnknownError(format!("{}: {e}", dir.display())))?;
    for (relative, path) in entries {
        if path.is_dir() {
            fs.mkdir(&relative).await?;
        } else {
            let reading = path.clone();
            let data = tokio::task::spawn_blocking(move || std::fs::read(reading))
                .await
                .map_err(|e| FsError::UnknownError(e.to_string()))?
                .map_err(|e| FsError::UnknownError(format!("{}: {e}", path.display())))?;
            if data.is_empty() {
                fs.create(&relative).await?;
            } else {
                fs.write(&relative, 0, &data).await?;
            }
        }
    }
    Ok(())
}

/// Every file and directory under `dir`, parents before children, sorted by name, as
/// (`/`-separated path relative to `dir`, host path). Symbolic links are followed.
fn tree(dir: &Path) -> io::Result<Vec<(String, PathBuf)>> {
    let mut out = Vec::new();
    let mut pending = vec![(String::new(), dir.to_path_buf())];
    while let Some((prefix, path)) = pending.pop() {
        let mut children: Vec<_> = std::fs::read_dir(&path)?.collect::<Result<_, _>>()?;
        children.sort_by_key(|entry| entry.file_name());
        for entry in children.into_iter().rev() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let relative = if prefix.is_empty() {
                name
            } else {
                format!("{prefix}/{name}")
            };
            if entry.path().is_dir() {
                pending.push((relative.clone(), entry.path()));
            }
            out.push((relative, entry.path()));
        }
    }
    out.sort();
    Ok(out)
}
