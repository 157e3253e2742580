//! Positional vectored I/O: `preadv2`/`pwritev2`, looping over short transfers.

#[allow(unused_imports)]
use crate::prelude::*;

use std::fs::File;
use std::io::{self, IoSlice, IoSliceMut};
use std::os::fd::AsRawFd;

/// At most this many buffers go to one system call (Linux's `IOV_MAX`).
const IOV_MAX: usize = 1024;

/// How a transfer asked not to wait for the disk ended.
pub(crate) enum NoWait {
    /// All bytes moved without waiting.
    Done,
    /// This many bytes moved; the rest would have waited for the disk.
    WouldBlock(usize),
    /// The kernel or filesystem does not support non-waiting transfers of this kind.
    Unsupported,
}

/// Reads into `buffers` from `offset` without waiting for the disk (`RWF_NOWAIT`): only data
/// already in the page cache is copied.
pub(crate) fn read_nowait(
    file: &File,
    buffers: &mut [&mut [u8]],
    offset: u64,
) -> io::Result<NoWait> {
    read_vectored_at(file, buffers, offset, libc::RWF_NOWAIT)
}

/// Reads into `buffers` from `offset` with one vectored call, waiting if the kernel must:
/// only for files in memory (tmpfs, ramfs), where nothing waits for a disk.
pub(crate) fn read_in_memory(
    file: &File,
    buffers: &mut [&mut [u8]],
    offset: u64,
) -> io::Result<()> {
    match read_vectored_at(file, buffers, offset, 0)? {
        NoWait::Done => Ok(()),
        _ => Err(io::Error::other("a waiting read stopped early")),
    }
}

fn read_vectored_at(
    file: &File,
    buffers: &mut [&mut [u8]],
    offset: u64,
    flags: i32,
) -> io::Result<NoWait> {
    let syscall = |fd, slices: &[IoSliceMut<'_>], at, flags| unsafe {
        libc::preadv2(fd, slices.as_ptr().cast(), slices.len() as _, at, flags)
    };
    // One buffer is the common case: keep its slice on the stack.
    if let [only] = buffers {
        return transfer_nowait(file, offset, &mut [IoSliceMut::new(only)], syscall, flags);
    }
    let mut slices: Vec<IoSliceMut<'_>> = buffers.iter_mut().map(|b| IoSliceMut::new(b)).collect();
    transfer_nowait(file, offset, &mut slices, syscall, flags)
}

/// Writes `buffers` at `offset` without waiting (`RWF_NOWAIT`).
pub(crate) fn write_nowait(file: &File, buffers: &[&[u8]], offset: u64) -> io::Result<NoWait> {
    write_vectored_at(file, buffers, offset, libc::RWF_NOWAIT)
}

/// Writes `buffers` at `offset` with one vectored call, waiting if the kernel must. Only for
/// ranges already in the page cache (see [`range_is_cached`]) or files in memory, where
/// nothing waits for the disk.
pub(crate) fn write_cached(file: &File, buffers: &[&[u8]], offset: u64) -> io::Result<()> {
    match write_vectored_at(file, buffers, offset, 0)? {
        NoWait::Done => Ok(()),
        _ => Err(io::Error::other("a waiting write stopped early")),
    }
}

fn write_vectored_at(
    file: &File,
    buffers: &[&[u8]],
    offset: u64,
    flags: i32,
) -> io::Result<NoWait> {
    let syscall = |fd, slices: &[IoSlice<'_>], at, flags| unsafe {
        libc::pwritev2(fd, slices.as_ptr().cast(), slices.len() as _, at, flags)
    };
    if let [only] = buffers {
        return transfer_nowait(file, offset, &mut [IoSlice::new(only)], syscall, flags);
    }
    let mut slices: Vec<IoSlice<'_>> = buffers.iter().map(|b| IoSlice::new(b)).collect();
    transfer_nowait(file, offset, &mut slices, syscall, flags)
}

/// `cachestat(2)` (Linux 6.5): the page-cache state of a byte range.
#[repr(C)]
#[derive(Default)]
struct CacheStat {
    nr_cache: u64,
    nr_dirty: u64,
    nr_writeback: u64,
    nr_evicted: u64,
    nr_recently_evicted: u64,
}

#[repr(C)]
struct CacheStatRange {
    offset: u64,
    len: u64,
}

/// The `cachestat` system call number (the same on every architecture).
const SYS_CACHESTAT: libc::c_long = 451;

/// Whether every page of `len` bytes at `offset` is in the page cache and none is being
/// written back: then writing the range copies into memory and does not wait for the disk.
/// `None` if the kernel cannot tell (no `cachestat`).
pub(crate) fn range_is_cached(file: &File, offset: u64, len: u64) -> Option<bool> {
    const PAGE: u64 = 4096;
    let first = offset / PAGE;
    let end = offset.checked_add(len)?.div_ceil(PAGE);
    let range = CacheStatRange {
        offset: first * PAGE,
        len: (end - first) * PAGE,
    };
    let mut stat = CacheStat::default();
    // SAFETY: the kernel reads `range` and writes `stat`, both live for the call.
    let rc = unsafe {
        libc::syscall(
            SYS_CACHESTAT,
            file.as_raw_fd(),
            &range as *const CacheStatRange,
            &mut stat as *mut CacheStat,
            0,
        )
    };
    (rc == 0).then(|| stat.nr_cache >= end - first && stat.nr_writeback == 0)
}

/// Fills `buffer` from `offset`, waiting for the disk as needed.
pub(crate) fn read_exact_at(file: &File, buffer: &mut [u8], offset: u64) -> io::Result<()> {
    let mut slices = [IoSliceMut::new(buffer)];
    match transfer(
        file,
        offset,
        &mut slices,
        0,
        |fd, slices, at, flags| unsafe {
            libc::preadv2(fd, slices.as_ptr().cast(), slices.len() as _, at, flags)
        },
    )? {
        Progress::Done => Ok(()),
        Progress::Stopped(_) => Err(io::Error::other("a waiting transfer stopped early")),
    }
}

/// Writes all of `buffer` at `offset`, waiting for the disk as needed.
pub(crate) fn write_all_at(file: &File, buffer: &[u8], offset: u64) -> io::Result<()> {
    let mut slices = [IoSlice::new(buffer)];
    match transfer(
        file,
        offset,
        &mut slices,
        0,
        |fd, slices, at, flags| unsafe {
            libc::pwritev2(fd, slices.as_ptr().cast(), slices.len() as _, at, flags)
        },
    )? {
        Progress::Done => Ok(()),
        Progress::Stopped(_) => Err(io::Error::other("a waiting transfer stopped early")),
    }
}

enum Progress {
    Done,
    /// Stopped with `EAGAIN` after this many bytes.
    Stopped(usize),
}

/// The slices `IoSlice` and `IoSliceMut` share: both can be advanced past transferred bytes.
trait Advance<'a>: Sized {
    fn advance_all(slices: &mut &mut [Self], n: usize);
    fn remaining(slices: &[Self]) -> usize;
}

impl<'a> Advance<'a> for IoSlice<'a> {
    fn advance_all(slices: &mut &mut [Self], n: usize) {
        IoSlice::advance_slices(slices, n)
    }
    fn remaining(slices: &[Self]) -> usize {
        slices.iter().map(|s| s.len()).sum()
    }
}

impl<'a> Advance<'a> for IoSliceMut<'a> {
    fn advance_all(slices: &mut &mut [Self], n: usize) {
        IoSliceMut::advance_slices(slices, n)
    }
    fn remaining(slices: &[Self]) -> usize {
        slices.iter().map(|s| s.len()).sum()
    }
}

fn transfer_nowait<'a, S: Advance<'a>>(
    file: &File,
    offset: u64,
    slices: &mut [S],
    syscall: impl Fn(i32, &[S], i64, i32) -> isize,
    flags: i32,
) -> io::Result<NoWait> {
    match transfer(file, offset, slices, flags, syscall) {
        Ok(Progress::Done) => Ok(NoWait::Done),
        Ok(Progress::Stopped(moved)) => Ok(NoWait::WouldBlock(moved)),
        Err(error)
            if flags & libc::RWF_NOWAIT != 0
                && matches!(
                    error.raw_os_error(),
                    Some(libc::EOPNOTSUPP) | Some(libc::EINVAL) | Some(libc::ENOSYS)
                ) =>
        {
            Ok(NoWait::Unsupported)
        }
        Err(error) => Err(error),
    }
}

fn transfer<'a, S: Advance<'a>>(
    file: &File,
    offset: u64,
    mut slices: &mut [S],
    flags: i32,
    syscall: impl Fn(i32, &[S], i64, i32) -> isize,
) -> io::Result<Progress> {
    let fd = file.as_raw_fd();
    let total = S::remaining(slices);
    let mut moved = 0usize;
    while moved < total {
        let position = offset
            .checked_add(moved as u64)
            .and_then(|at| i64::try_from(at).ok())
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "offset overflows"))?;
        let batch = slices.len().min(IOV_MAX);
        let result = syscall(fd, &slices[..batch], position, flags);
        if result < 0 {
            let error = io::Error::last_os_error();
            match error.raw_os_error() {
                Some(libc::EINTR) => continue,
                Some(libc::EAGAIN) if flags & libc::RWF_NOWAIT != 0 => {
                    return Ok(Progress::Stopped(moved));
                }
                _ => return Err(error),
            }
        }
        if result == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("end of file at byte {position}: the image is shorter than its size"),
            ));
        }
        moved += result as usize;
        if moved < total {
            // A short transfer (rare): on from where it stopped.
            S::advance_all(&mut slices, result as usize);
        }
    }
    Ok(Progress::Done)
}
