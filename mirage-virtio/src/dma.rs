//! What `virtio-drivers` needs of the kernel's memory: the heap is mapped one to one, so a
//! buffer's physical address is its address, device memory (BARs) is where it is, and
//! sharing a buffer with a device costs nothing.

use core::alloc::Layout;
use core::ptr::NonNull;
use virtio_drivers::{BufferDirection, Hal, PAGE_SIZE, PhysAddr};

/// The kernel's `Hal`.
pub struct KernelHal;

/// Everything below this is mapped one to one (boot.rs).
const MAPPED: u64 = 4 << 30;

fn pages_layout(pages: usize) -> Layout {
    Layout::from_size_align(pages.max(1) * PAGE_SIZE, PAGE_SIZE).expect("a page-aligned layout")
}

// SAFETY: allocations are zeroed, page-aligned and the heap's own until freed; addresses are
// physical because the kernel maps memory one to one.
unsafe impl Hal for KernelHal {
    fn dma_alloc(pages: usize, _direction: BufferDirection) -> (PhysAddr, NonNull<u8>) {
        // SAFETY: the layout has a non-zero size.
        let memory = unsafe { alloc::alloc::alloc_zeroed(pages_layout(pages)) };
        let memory = NonNull::new(memory)
            .unwrap_or_else(|| alloc::alloc::handle_alloc_error(pages_layout(pages)));
        (memory.as_ptr() as PhysAddr, memory)
    }

    unsafe fn dma_dealloc(_paddr: PhysAddr, vaddr: NonNull<u8>, pages: usize) -> i32 {
        // SAFETY: allocated by `dma_alloc` with this layout, as the caller vouches.
        unsafe { alloc::alloc::dealloc(vaddr.as_ptr(), pages_layout(pages)) };
        0
    }

    unsafe fn mmio_phys_to_virt(paddr: PhysAddr, size: usize) -> NonNull<u8> {
        assert!(
            paddr.saturating_add(size as u64) <= MAPPED,
            "device memory at {paddr:#x} is above the 4 GiB this kernel maps"
        );
        NonNull::new(paddr as *mut u8).expect("device memory at address 0")
    }

    unsafe fn share(buffer: NonNull<[u8]>, _direction: BufferDirection) -> PhysAddr {
        buffer.cast::<u8>().as_ptr() as PhysAddr
    }

    unsafe fn unshare(_paddr: PhysAddr, _buffer: NonNull<[u8]>, _direction: BufferDirection) {}
}
