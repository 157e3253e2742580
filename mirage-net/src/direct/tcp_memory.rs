//! The memory behind a TCP socket's buffers: one anonymous mapping per socket.
//!
//! A mapping costs memory only for the pages data has passed through: a connection that
//! never carries much holds little whatever its window, and the whole mapping goes back to
//! the system when the socket is freed. (Buffers from the heap were filled with zeros when
//! made, so every connection cost both buffers' full size from its first moment, and what
//! was freed stayed with the process.)

use std::io;
use std::ptr::NonNull;

/// Both buffers' memory for one socket: receive half first, send half second.
pub(crate) struct TcpMemory {
    start: NonNull<u8>,
    len: usize,
}

impl TcpMemory {
    /// A mapping of `2 * each` bytes, committed page by page as it is touched.
    pub(crate) fn new(each: usize) -> io::Result<TcpMemory> {
        let len = 2 * each;
        // SAFETY: an anonymous private mapping at no fixed address; the result is checked.
        let start = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if start == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let start = NonNull::new(start.cast::<u8>()).ok_or_else(|| io::Error::other("mmap"))?;
        Ok(TcpMemory { start, len })
    }

    /// The two buffers, for a socket.
    ///
    /// # Safety
    ///
    /// The slices are valid only while `self` lives and must be handed to one socket only:
    /// the socket must be dropped before `self` is.
    pub(crate) unsafe fn buffers(&self) -> (&'static mut [u8], &'static mut [u8]) {
        let half = self.len / 2;
        // SAFETY: the mapping is `len` bytes, readable and writable, zero-filled; the two
        // halves do not overlap; the caller keeps the mapping alive as long as they are used.
        unsafe {
            (
                std::slice::from_raw_parts_mut(self.start.as_ptr(), half),
                std::slice::from_raw_parts_mut(self.start.as_ptr().add(half), half),
            )
        }
    }
}

impl Drop for TcpMemory {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `new`, unmapped once.
        unsafe { libc::munmap(self.start.as_ptr().cast(), self.len) };
    }
}
