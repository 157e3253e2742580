//! Memory: the heap (a zeroed region in `.bss`, inside the mapping Xen builds for the image,
//! so nothing has to be mapped by hand) and the translation of this kernel's addresses to
//! machine frames, which grants and shared pages name.

use crate::executor::Global;
use crate::start_info::StartInfo;
use core::cell::UnsafeCell;
use linked_list_allocator::LockedHeap;

/// Bytes of heap. Xen maps the whole image, `.bss` included, before entry.
pub const HEAP_BYTES: usize = 8 * 1024 * 1024;

/// Bytes of a page.
pub const PAGE_SIZE: usize = 4096;

#[repr(C, align(4096))]
struct HeapArea(UnsafeCell<[u8; HEAP_BYTES]>);

// SAFETY: one vCPU and no interrupts: the area is handed to the allocator once, at boot.
unsafe impl Sync for HeapArea {}

static HEAP_AREA: HeapArea = HeapArea(UnsafeCell::new([0; HEAP_BYTES]));

#[global_allocator]
static HEAP: LockedHeap = LockedHeap::empty();

/// The pfn-to-mfn list Xen built (`start_info.mfn_list`).
static P2M: Global<&'static [u64]> = Global::new(&[]);

/// Sets up the heap and the translation; called once, first thing at boot.
pub(crate) fn init(start_info: &'static StartInfo) {
    // SAFETY: called once before anything allocates; the area is ours alone from now.
    unsafe { HEAP.lock().init(HEAP_AREA.0.get().cast(), HEAP_BYTES) };
    // SAFETY: Xen maps the list, `nr_pages` entries, read-only for the kernel's lifetime.
    let p2m = unsafe {
        core::slice::from_raw_parts(
            start_info.mfn_list as *const u64,
            start_info.nr_pages as usize,
        )
    };
    P2M.with(|list| *list = p2m);
}

/// The machine frame behind the page at virtual address `va` (in the image or the initial
/// mapping, where virtual address = pfn × 4096).
pub fn mfn_of(va: usize) -> u64 {
    P2M.with(|p2m| p2m[va / PAGE_SIZE])
}

/// The virtual address of machine frame `mfn`, if it is one of this domain's pages in the
/// initial mapping: read from Xen's read-only machine-to-physical table.
pub fn va_of_mfn(mfn: u64) -> usize {
    const MACH2PHYS_VIRT_START: usize = 0xffff_8000_0000_0000;
    // SAFETY: Xen maps the M2P table read-only into every PV guest at this address, one
    // u64 per machine frame.
    let pfn =
        unsafe { core::ptr::read_volatile((MACH2PHYS_VIRT_START as *const u64).add(mfn as usize)) };
    pfn as usize * PAGE_SIZE
}

/// Bytes of heap in use now and in all.
pub fn heap_usage() -> (usize, usize) {
    let heap = HEAP.lock();
    (heap.used(), heap.size())
}
