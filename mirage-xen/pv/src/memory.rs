//! Memory: the heap (every page of the domain after the bootstrap elements, mapped by
//! [`crate::page_tables`]) and the translation of this kernel's addresses to machine frames,
//! which grants and shared pages name.

use crate::executor::Global;
use crate::page_tables::MapError;
use crate::start_info::StartInfo;

/// Bytes of a page.
pub const PAGE_SIZE: usize = 4096;

/// Heap allocations since boot (reallocations that move count as one), for measuring
/// what a path allocates.
pub fn allocations() -> u64 {
    mirage_unikernel::heap::allocations()
}

/// The pfn-to-mfn list Xen built (`start_info.mfn_list`).
static P2M: Global<&'static [u64]> = Global::new(&[]);

/// Sets up the translation; called once, first thing at boot.
pub(crate) fn init(start_info: &'static StartInfo) {
    // SAFETY: Xen maps the list, `nr_pages` entries, for the kernel's lifetime.
    let p2m = unsafe {
        core::slice::from_raw_parts(
            start_info.mfn_list as *const u64,
            start_info.nr_pages as usize,
        )
    };
    P2M.with(|list| *list = p2m);
}

/// Maps all of the domain's memory and gives the pages after the bootstrap elements to the
/// heap; called once at boot, before anything allocates.
pub(crate) fn init_heap(start_info: &'static StartInfo) -> Result<(), MapError> {
    let p2m = P2M.with(|p2m| *p2m);
    let pages = crate::page_tables::map_all(start_info, p2m)?;
    let bytes = pages.len() * PAGE_SIZE;
    // SAFETY: these pages are mapped writable now and nothing else uses them: they follow
    // every bootstrap element and every page table.
    unsafe { mirage_unikernel::heap::init((pages.start * PAGE_SIZE) as *mut u8, bytes) };
    Ok(())
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
    mirage_unikernel::heap::usage()
}
