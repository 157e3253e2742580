//! `fatfs`'s `io::Error`s as V1's filesystem errors.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

use mirage_types::FsError;
use std::io;

/// Maps an error `fatfs` gave for an operation on `path`.
pub(crate) fn fs_error(path: &str, error: io::Error) -> FsError {
    let message = error.to_string();
    match error.kind() {
        io::ErrorKind::NotFound => {
            let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
            FsError::NoDirectoryEntry {
                dir: format!("/{dir}"),
                name: name.to_owned(),
            }
        }
        io::ErrorKind::AlreadyExists => FsError::FileAlreadyExists(path.to_owned()),
        _ => match message.as_str() {
            "Is a directory" => FsError::IsADirectory(path.to_owned()),
            "Not a directory" => FsError::NotADirectory(path.to_owned()),
            "Directory not empty" => FsError::DirectoryNotEmpty(path.to_owned()),
            "No space left on device" => FsError::NoSpace,
            _ if is_format_error(&message) => FsError::FormatNotRecognised(message),
            _ => FsError::UnknownError(format!("{path}: {message}")),
        },
    }
}

/// Errors from validating the boot sector and BPB.
fn is_format_error(message: &str) -> bool {
    [
        "BPB",
        "boot sector",
        "FS version",
        "FAT type",
        "clusters",
        "Volume is too small",
    ]
    .iter()
    .any(|needle| message.contains(needle))
}
