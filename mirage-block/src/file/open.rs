//! Opening an image file or block device, and finding its geometry.

#[allow(unused_imports)]
use crate::prelude::*;

use mirage_types::{BlockError, IoError};
use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// `BLKSSZGET`: a block device's logical sector size.
const BLKSSZGET: libc::c_ulong = 0x1268;
/// `BLKGETSIZE64`: a block device's size in bytes.
const BLKGETSIZE64: libc::c_ulong = 0x8008_1272;
/// `BLKROGET`: whether a block device is read-only (`losetup -r`, `blockdev --setro`).
const BLKROGET: libc::c_ulong = 0x125e;
/// Sector size of image files, as Mirage's `block_of_file` has it.
pub(crate) const FILE_SECTOR_SIZE: u32 = 512;

/// An open device: the file, whether it is writable, and its geometry.
pub(crate) struct Opened {
    pub(crate) file: File,
    /// The file lives in memory (tmpfs, ramfs): no transfer waits for a disk.
    pub(crate) in_memory: bool,
    pub(crate) read_write: bool,
    pub(crate) sector_size: u32,
    pub(crate) size_sectors: u64,
}

/// Opens `path` read-write, falling back to read-only when writing is not permitted (or
/// read-only at once if `read_only`).
pub(crate) fn open(path: &Path, read_only: bool, direct: bool) -> Result<Opened, BlockError> {
    let flags = if direct { libc::O_DIRECT } else { 0 };
    let attempt = |write: bool| {
        OpenOptions::new()
            .read(true)
            .write(write)
            .custom_flags(flags | libc::O_CLOEXEC)
            .open(path)
    };
    let (file, read_write) = if read_only {
        (attempt(false), false)
    } else {
        match attempt(true) {
            Err(error) if write_refused(&error) => (attempt(false), false),
            result => (result, true),
        }
    };
    let mut file = file.map_err(|error| open_error(path, direct, error))?;
    // A read-only block device opens read-write, then refuses every write: ask it.
    let mut read_write = read_write;
    if read_write && device_is_read_only(&file) {
        file = attempt(false).map_err(|error| open_error(path, direct, error))?;
        read_write = false;
    }
    let (sector_size, size_sectors) =
        geometry(&file).map_err(|e| BlockError::Io(IoError::new(path.display().to_string(), e)))?;
    Ok(Opened {
        in_memory: in_memory(&file),
        file,
        read_write,
        sector_size,
        size_sectors,
    })
}

/// Whether `file` is a regular file on tmpfs or ramfs, whose pages are memory: reading or
/// writing them never waits for a disk (unless the system swaps tmpfs out).
fn in_memory(file: &File) -> bool {
    const TMPFS_MAGIC: i64 = 0x0102_1994;
    const RAMFS_MAGIC: i64 = 0x8584_58f6;
    let regular = file.metadata().is_ok_and(|m| m.is_file());
    // SAFETY: fstatfs fills the struct it is given, on a descriptor this owns.
    let mut stat: libc::statfs = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::fstatfs(std::os::fd::AsRawFd::as_raw_fd(file), &mut stat) };
    regular && rc == 0 && matches!(stat.f_type as i64, TMPFS_MAGIC | RAMFS_MAGIC)
}

/// Whether `file` is a block device marked read-only.
fn device_is_read_only(file: &File) -> bool {
    let is_device = file
        .metadata()
        .is_ok_and(|metadata| metadata.file_type().is_block_device());
    let mut read_only: libc::c_int = 0;
    // SAFETY: BLKROGET writes one int; the descriptor is open.
    is_device
        && unsafe { libc::ioctl(file.as_raw_fd(), BLKROGET as _, &mut read_only) } == 0
        && read_only != 0
}

fn write_refused(error: &io::Error) -> bool {
    matches!(
        error.raw_os_error(),
        Some(libc::EACCES) | Some(libc::EPERM) | Some(libc::EROFS)
    )
}

fn open_error(path: &Path, direct: bool, error: io::Error) -> BlockError {
    let hint = if direct && error.raw_os_error() == Some(libc::EINVAL) {
        " (this filesystem does not support direct I/O; open without it)"
    } else {
        ""
    };
    BlockError::Io(IoError::new(
        format!("connect {}: failed to open file{hint}", path.display()),
        error,
    ))
}

/// Sector size and sector count: 512-byte sectors for a regular file (a trailing partial
/// sector is not addressable), the device's own for a block device.
fn geometry(file: &File) -> io::Result<(u32, u64)> {
    let metadata = file.metadata()?;
    let file_type = metadata.file_type();
    if file_type.is_file() {
        return Ok((
            FILE_SECTOR_SIZE,
            metadata.len() / u64::from(FILE_SECTOR_SIZE),
        ));
    }
    if !file_type.is_block_device() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "neither a regular file nor a block device",
        ));
    }
    let fd = file.as_raw_fd();
    let mut sector_size: libc::c_int = 0;
    let mut size_bytes: u64 = 0;
    // SAFETY: both ioctls write one value of the pointed-to type.
    unsafe {
        if libc::ioctl(fd, BLKSSZGET as _, &mut sector_size) != 0
            || libc::ioctl(fd, BLKGETSIZE64 as _, &mut size_bytes) != 0
        {
            return Err(io::Error::last_os_error());
        }
    }
    let sector_size = u32::try_from(sector_size)
        .ok()
        .filter(|size| *size >= 512 && size.is_power_of_two())
        .ok_or_else(|| io::Error::other(format!("device reports sector size {sector_size}")))?;
    Ok((sector_size, size_bytes / u64::from(sector_size)))
}
