//! Positional vectored I/O: `preadv2`/`pwritev2`, looping over short transfers.

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
    let mut slices: Vec<IoSliceMut<'_>> = buffers.iter_mut().map(|b| IoSliceMut::new(b)).collect();
    transfer_nowait(file, offset, slices.as_mut_slice(), |fd, slices, at, flags| unsafe {
        libc::preadv2(fd, slices.as_ptr().cast(), slices.len() as _, at, flags)
    })
}

/// Writes `buffers` at `offset` without waiting (`RWF_NOWAIT`).
pub(crate) fn write_nowait(file: &File, buffers: &[&[u8]], offset: u64) -> io::Result<NoWait> {
    let mut slices: Vec<IoSlice<'_>> = buffers.iter().map(|b| IoSlice::new(b)).collect();
    transfer_nowait(file, offset, slices.as_mut_slice(), |fd, slices, at, flags| unsafe {
        libc::pwritev2(fd, slices.as_ptr().cast(), slices.len() as _, at, flags)
    })
}

/// Fills `buffer` from `offset`, waiting for the disk as needed.
pub(crate) fn read_exact_at(file: &File, buffer: &mut [u8], offset: u64) -> io::Result<()> {
    let mut slices = [IoSliceMut::new(buffer)];
    match transfer(file, offset, &mut slices, 0, |fd, slices, at, flags| unsafe {
        libc::preadv2(fd, slices.as_ptr().cast(), slices.len() as _, at, flags)
    })? {
        Progress::Done => Ok(()),
        Progress::Stopped(_) => unreachable!("blocking transfers do not stop early"),
    }
}

/// Writes all of `buffer` at `offset`, waiting for the disk as needed.
pub(crate) fn write_all_at(file: &File, buffer: &[u8], offset: u64) -> io::Result<()> {
    let mut slices = [IoSlice::new(buffer)];
    match transfer(file, offset, &mut slices, 0, |fd, slices, at, flags| unsafe {
        libc::pwritev2(fd, slices.as_ptr().cast(), slices.len() as _, at, flags)
    })? {
        Progress::Done => Ok(()),
        Progress::Stopped(_) => unreachable!("blocking transfers do not stop early"),
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
) -> io::Result<NoWait> {
    match transfer(file, offset, slices, libc::RWF_NOWAIT, syscall) {
        Ok(Progress::Done) => Ok(NoWait::Done),
        Ok(Progress::Stopped(moved)) => Ok(NoWait::WouldBlock(moved)),
        Err(error)
            if matches!(
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
    let mut moved = 0usize;
    while S::remaining(slices) > 0 {
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
        S::advance_all(&mut slices, result as usize);
    }
    Ok(Progress::Done)
}
