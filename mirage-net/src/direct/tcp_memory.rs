//! The memory behind a TCP socket's buffers, one block per socket.
//!
//! In a Linux process it is an anonymous mapping: it costs memory only for the pages data
//! has passed through, so a connection that never carries much holds little whatever its
//! window, and the whole mapping goes back to the system when the socket is freed. (Buffers
//! from the heap were filled with zeros when made, so every connection cost both buffers'
//! full size from its first moment, and what was freed stayed with the process.) Without
//! `std` (a unikernel, whose heap is all the memory it has) it is a zeroed block of the heap.

#[allow(unused_imports)]
use crate::alloc_prelude::*;
use core::ptr::NonNull;

/// Both buffers' memory for one socket: receive half first, send half second.
pub(crate) struct TcpMemory {
    start: NonNull<u8>,
    len: usize,
}

impl TcpMemory {
    /// A block of `2 * each` zeroed bytes, or why there is none.
    #[cfg(feature = "std")]
    pub(crate) fn new(each: usize) -> Result<TcpMemory, String> {
        let len = 2 * each;
        // SAFETY: an anonymous private mapping at no fixed address; the result is checked.
        let start = unsafe {
            libc::mmap(
                core::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if start == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error().to_string());
        }
        let start = NonNull::new(start.cast::<u8>()).ok_or("mmap gave address 0")?;
        Ok(TcpMemory { start, len })
    }

    /// A block of `2 * each` zeroed bytes, or why there is none.
    #[cfg(not(feature = "std"))]
    pub(crate) fn new(each: usize) -> Result<TcpMemory, String> {
        let len = 2 * each;
        let layout = Self::layout(len);
        // SAFETY: the layout's size is not zero (a socket has buffers).
        let start = unsafe { alloc::alloc::alloc_zeroed(layout) };
        let start = NonNull::new(start)
            .ok_or_else(|| format!("the heap has no {len} bytes for a socket's buffers"))?;
        Ok(TcpMemory { start, len })
    }

    #[cfg(not(feature = "std"))]
    fn layout(len: usize) -> core::alloc::Layout {
        core::alloc::Layout::from_size_align(len, 4096).expect("a socket's buffers fit a layout")
    }

    /// Bytes in the block (both buffers).
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The two buffers, for a socket.
    ///
    /// # Safety
    ///
    /// The slices are valid only while `self` lives and must be handed to one socket only:
    /// the socket must be dropped before `self` is.
    pub(crate) unsafe fn buffers(&self) -> (&'static mut [u8], &'static mut [u8]) {
        let half = self.len / 2;
        // SAFETY: the block is `len` bytes, readable and writable, zero-filled; the two
        // halves do not overlap; the caller keeps the block alive as long as they are used.
        unsafe {
            (
                core::slice::from_raw_parts_mut(self.start.as_ptr(), half),
                core::slice::from_raw_parts_mut(self.start.as_ptr().add(half), half),
            )
        }
    }
}

impl Drop for TcpMemory {
    fn drop(&mut self) {
        // SAFETY: the block made in `new`, given back once.
        #[cfg(feature = "std")]
        unsafe {
            libc::munmap(self.start.as_ptr().cast(), self.len)
        };
        #[cfg(not(feature = "std"))]
        unsafe {
            alloc::alloc::dealloc(self.start.as_ptr(), Self::layout(self.len))
        };
    }
}
