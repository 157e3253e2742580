//! The heap: one region of memory the platform hands over at boot, counted (bytes in use,
//! allocations made), for the figures of allocations per frame and for sizing what may use
//! it (`DirectStack::set_tcp_memory_limit`).

use core::alloc::{GlobalAlloc, Layout};
use core::sync::atomic::{AtomicU64, Ordering};
use linked_list_allocator::LockedHeap;

/// A heap over one region, counting its allocations. A kernel's heap is the global
/// allocator of feature `kernel` (`init`, `usage`, `allocations`); tests may make
/// their own.
pub struct CountingHeap {
    heap: LockedHeap,
    allocations: AtomicU64,
}

impl CountingHeap {
    /// A heap with no memory yet.
    pub const fn empty() -> Self {
        CountingHeap {
            heap: LockedHeap::empty(),
            allocations: AtomicU64::new(0),
        }
    }

    /// Gives the heap `size` bytes at `start`.
    ///
    /// # Safety
    ///
    /// The region is mapped, writable, used by nothing else for as long as the heap lives,
    /// and this is the heap's only call of `init`.
    pub unsafe fn init(&self, start: *mut u8, size: usize) {
        // SAFETY: as the caller vouches.
        unsafe { self.heap.lock().init(start, size) }
    }

    /// Bytes in use now, and the heap's size.
    pub fn usage(&self) -> (usize, usize) {
        let heap = self.heap.lock();
        (heap.used(), heap.size())
    }

    /// Allocations made so far (reallocations that move count as one).
    pub fn allocations(&self) -> u64 {
        self.allocations.load(Ordering::Relaxed)
    }
}

// SAFETY: every call goes to the inner heap unchanged; the count is a side record.
unsafe impl GlobalAlloc for CountingHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.allocations.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as the caller vouches.
        unsafe { self.heap.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as the caller vouches.
        unsafe { self.heap.dealloc(ptr, layout) }
    }
}

#[cfg(feature = "kernel")]
#[global_allocator]
static HEAP: CountingHeap = CountingHeap::empty();

/// Gives the kernel's heap `size` bytes at `start`; the platform's boot calls it once,
/// before anything allocates.
///
/// # Safety
///
/// As [`CountingHeap::init`].
#[cfg(feature = "kernel")]
pub unsafe fn init(start: *mut u8, size: usize) {
    // SAFETY: as the caller vouches.
    unsafe { HEAP.init(start, size) }
}

/// Bytes of the kernel's heap in use now, and its size.
#[cfg(feature = "kernel")]
pub fn usage() -> (usize, usize) {
    HEAP.usage()
}

/// Allocations the kernel made since boot.
#[cfg(feature = "kernel")]
pub fn allocations() -> u64 {
    HEAP.allocations()
}
