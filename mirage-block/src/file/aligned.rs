//! An owned, zeroed byte buffer aligned for direct I/O.

#[allow(unused_imports)]
use crate::prelude::*;

use std::alloc::{Layout, alloc_zeroed, dealloc, handle_alloc_error};
use std::ptr::NonNull;

/// Alignment of every buffer: a page, enough for `O_DIRECT` on any device.
const ALIGNMENT: usize = 4096;

/// A heap buffer whose address is a multiple of 4096, so it can carry `O_DIRECT` transfers
/// on a blocking thread (the caller's buffers cannot cross threads).
pub(crate) struct AlignedBuf {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: the buffer owns its allocation exclusively, like a `Vec<u8>`.
unsafe impl Send for AlignedBuf {}

impl AlignedBuf {
    /// A zeroed buffer of `len` bytes.
    pub(crate) fn zeroed(len: usize) -> Self {
        if len == 0 {
            return AlignedBuf {
                ptr: NonNull::dangling(),
                len,
            };
        }
        let layout = Self::layout(len);
        // SAFETY: the layout has a non-zero size.
        let raw = unsafe { alloc_zeroed(layout) };
        let ptr = NonNull::new(raw).unwrap_or_else(|| handle_alloc_error(layout));
        AlignedBuf { ptr, len }
    }

    /// A buffer holding the concatenation of `parts`.
    pub(crate) fn gather(parts: &[&[u8]]) -> Self {
        let mut buf = Self::zeroed(parts.iter().map(|p| p.len()).sum());
        let mut at = 0;
        for part in parts {
            buf[at..at + part.len()].copy_from_slice(part);
            at += part.len();
        }
        buf
    }

    fn layout(len: usize) -> Layout {
        Layout::from_size_align(len, ALIGNMENT).expect("buffer length overflows a layout")
    }
}

impl std::ops::Deref for AlignedBuf {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        // SAFETY: `ptr` is valid for `len` initialised bytes (or dangling with `len == 0`).
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

impl std::ops::DerefMut for AlignedBuf {
    fn deref_mut(&mut self) -> &mut [u8] {
        // SAFETY: as above, and `&mut self` makes the access exclusive.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
}

impl Drop for AlignedBuf {
    fn drop(&mut self) {
        if self.len != 0 {
            // SAFETY: allocated in `zeroed` with this very layout.
            unsafe { dealloc(self.ptr.as_ptr(), Self::layout(self.len)) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligned_zeroed_and_gathered() {
        let buf = AlignedBuf::gather(&[b"ab", b"", b"cde"]);
        assert_eq!(&buf[..], b"abcde");
        assert_eq!(buf.as_ptr() as usize % ALIGNMENT, 0);
        let empty = AlignedBuf::zeroed(0);
        assert!(empty.is_empty());
        assert!(AlignedBuf::zeroed(8192).iter().all(|&b| b == 0));
    }
}
