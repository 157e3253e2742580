//! The memory a ring lives in.

#[allow(unused_imports)]
use crate::prelude::*;

use crate::abi::PAGE_SIZE;

/// Memory shared with a peer: a region that stays mapped, at a stable address, for as long
/// as the value lives.
///
/// # Safety
///
/// `as_ptr()` must point to `len()` bytes, aligned to 64 bytes at least, valid for reads and
/// writes until the value is dropped; the peer may write them at any time.
pub unsafe trait SharedMemory {
    /// The first byte.
    fn as_ptr(&self) -> *mut u8;
    /// How many bytes.
    fn len(&self) -> usize;
    /// Whether there are none.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[repr(C, align(4096))]
struct Page([u8; PAGE_SIZE]);

/// A zeroed, page-aligned page of this process's memory: a ring both sides of which are in
/// one process (tests, the simulated hypervisor).
pub struct OwnedPage {
    page: core::ptr::NonNull<Page>,
}

impl OwnedPage {
    /// A zeroed page.
    pub fn new() -> Self {
        let page = Box::new(Page([0; PAGE_SIZE]));
        OwnedPage {
            page: core::ptr::NonNull::from(Box::leak(page)),
        }
    }
}

impl Default for OwnedPage {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for OwnedPage {
    fn drop(&mut self) {
        // SAFETY: made by `Box::leak` in `new`, dropped once.
        drop(unsafe { Box::from_raw(self.page.as_ptr()) });
    }
}

// SAFETY: the page is 4096-aligned, 4096 bytes, and freed only on drop.
unsafe impl SharedMemory for OwnedPage {
    fn as_ptr(&self) -> *mut u8 {
        self.page.as_ptr().cast()
    }

    fn len(&self) -> usize {
        PAGE_SIZE
    }
}

// SAFETY: a shared reference to shared memory is shared memory, for as long as it lives.
unsafe impl<M: SharedMemory + ?Sized> SharedMemory for &M {
    fn as_ptr(&self) -> *mut u8 {
        (**self).as_ptr()
    }

    fn len(&self) -> usize {
        (**self).len()
    }
}

// SAFETY: as for `&M`.
unsafe impl<M: SharedMemory + ?Sized> SharedMemory for alloc::rc::Rc<M> {
    fn as_ptr(&self) -> *mut u8 {
        (**self).as_ptr()
    }

    fn len(&self) -> usize {
        (**self).len()
    }
}
