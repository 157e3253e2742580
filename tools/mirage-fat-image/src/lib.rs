#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

use mirage_block::FileBlock;
use mirage_kv::{FatFs, image};
use mirage_types::{Fs, FsError};
use std::path::Path;

/// How many times the image may grow when the first estimate is too small.
const ATTEMPTS: u32 = 8;

/// Writes a FAT image of `dir` to `image_path`, sized to fit, and returns its size in bytes.
pub async fn build(dir: &Path, image_path: &Path) -> Result<u64, FsError> {
    let unknown = |e: std::io::Error| FsError::UnknownError(e.to_string());
    let at_image =
        |e: std::io::Error| FsError::UnknownError(format!("{}: {e}", image_path.display()));
    let inside = |path: &Path| {
        let parent = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        parent
            .canonicalize()
            .is_ok_and(|p| dir.canonicalize().is_ok_and(|d| p.starts_with(d)))
    };
    if inside(image_path) {
        return Err(FsError::UnknownError(format!(
            "{} is inside {}: the image cannot hold itself",
            image_path.display(),
            dir.display()
        )));
    }
    let mut size = image::estimate_size(dir).map_err(unknown)?.div_ceil(512) * 512;
    for _ in 0..ATTEMPTS {
        let file = std::fs::File::create(image_path).map_err(at_image)?;
        file.set_len(size).map_err(at_image)?;
        drop(file);
        let block = FileBlock::connect(image_path).await?;
        let fs = FatFs::format_device(block).await?;
        match image::populate(&fs, dir).await {
            Ok(()) => {
                fs.sync().await?;
                return Ok(size);
            }
            Err(FsError::NoSpace) => size = (size * 3 / 2).div_ceil(512) * 512,
            Err(other) => return Err(other),
        }
    }
    Err(FsError::NoSpace)
}
