//! Grant table v1: pages this kernel shares with other domains (`GNTTABOP_setup_table`,
//! the table's frames mapped over pages of `.bss`). A PV guest runtime shares; it does not
//! map other domains' grants (that is a backend's job, done from dom0).

use crate::executor::Global;
use crate::hypercall::{GRANT_TABLE_OP, UPDATE_VA_MAPPING, hypercall3};
use crate::memory::{PAGE_SIZE, mfn_of};
use alloc::alloc::{alloc_zeroed, dealloc};
use alloc::format;
use alloc::vec::Vec;
use core::alloc::Layout;
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicU16, Ordering};
use mirage_xen::abi::{DomId, GrantRef};
use mirage_xen::platform::XenError;
use mirage_xen::ring::SharedMemory;

/// Frames of grant table: 512 entries each.
const FRAMES: usize = 8;
const ENTRIES: usize = FRAMES * PAGE_SIZE / 8;
/// Entries the toolstack keeps (0: console, 1: xenstore).
const RESERVED: u32 = 8;

const GTF_PERMIT_ACCESS: u16 = 1;
const GTF_READONLY: u16 = 1 << 2;
const GTF_READING: u16 = 1 << 3;
const GTF_WRITING: u16 = 1 << 4;

#[repr(C, align(4096))]
struct Table(UnsafeCell<[u8; FRAMES * PAGE_SIZE]>);

// SAFETY: Xen and this kernel share the entries; they are accessed with atomics and
// volatile writes only.
unsafe impl Sync for Table {}

static TABLE: Table = Table(UnsafeCell::new([0; FRAMES * PAGE_SIZE]));

/// The grant table's state: whether it is set up, and the free references.
struct State {
    ready: bool,
    free: Vec<GrantRef>,
}

static STATE: Global<State> = Global::new(State {
    ready: false,
    free: Vec::new(),
});

/// Asks Xen for the table's frames and maps them over [`TABLE`].
fn setup() -> Result<(), XenError> {
    #[repr(C)]
    struct SetupTable {
        dom: u16,
        nr_frames: u32,
        status: i16,
        frame_list: *mut u64,
    }
    let mut frames = [0u64; FRAMES];
    let mut op = SetupTable {
        dom: 0x7ff0,
        nr_frames: FRAMES as u32,
        status: 0,
        frame_list: frames.as_mut_ptr(),
    };
    const GNTTABOP_SETUP_TABLE: u64 = 2;
    // SAFETY: GNTTABOP_setup_table reads one `struct gnttab_setup_table` and writes
    // `nr_frames` frame numbers into `frames`.
    let rc = unsafe { hypercall3(GRANT_TABLE_OP, GNTTABOP_SETUP_TABLE, &raw mut op as u64, 1) };
    if rc != 0 || op.status != 0 {
        return Err(XenError::Other(format!(
            "GNTTABOP_setup_table for {FRAMES} frames: rc {rc}, status {}",
            op.status
        )));
    }
    for (n, frame) in frames.iter().enumerate() {
        let va = TABLE.0.get() as u64 + (n * PAGE_SIZE) as u64;
        // SAFETY: remaps a page of our own `.bss` table to the grant frame Xen gave.
        let rc = unsafe { hypercall3(UPDATE_VA_MAPPING, va, (frame << 12) | 0x67, 2) };
        if rc != 0 {
            return Err(XenError::Other(format!(
                "mapping grant table frame {n}: rc {rc}"
            )));
        }
    }
    Ok(())
}

fn entry(gref: GrantRef) -> (&'static AtomicU16, *mut u16, *mut u32) {
    let at = TABLE.0.get().cast::<u8>().wrapping_add(gref as usize * 8);
    // SAFETY: entry `gref` (< ENTRIES) of the mapped table: flags u16, domid u16, frame u32.
    unsafe {
        (
            &*at.cast::<AtomicU16>(),
            at.add(2).cast::<u16>(),
            at.add(4).cast::<u32>(),
        )
    }
}

/// A zeroed page of this kernel shared with another domain until dropped.
#[derive(Debug)]
pub struct PvGrant {
    gref: GrantRef,
    page: *mut u8,
}

fn page_layout() -> Layout {
    Layout::from_size_align(PAGE_SIZE, PAGE_SIZE).expect("a page's layout")
}

/// Shares a fresh zeroed page with `domain`.
pub fn share(domain: DomId, readonly: bool) -> Result<PvGrant, XenError> {
    let gref = STATE.with(|state| {
        if !state.ready {
            setup()?;
            state.free = (RESERVED..ENTRIES as u32).rev().collect();
            state.ready = true;
        }
        state
            .free
            .pop()
            .ok_or_else(|| XenError::Exhausted(format!("all {ENTRIES} grant references in use")))
    })?;
    // SAFETY: a page-sized, page-aligned layout.
    let page = unsafe { alloc_zeroed(page_layout()) };
    if page.is_null() {
        STATE.with(|state| state.free.push(gref));
        return Err(XenError::Exhausted("no memory for a page to share".into()));
    }
    let (flags, domid, frame) = entry(gref);
    // SAFETY: the entry is ours (taken from the free list) and not yet valid for Xen.
    unsafe {
        domid.write_volatile(domain);
        frame.write_volatile(mfn_of(page as usize) as u32);
    }
    let readonly = if readonly { GTF_READONLY } else { 0 };
    flags.store(GTF_PERMIT_ACCESS | readonly, Ordering::SeqCst);
    Ok(PvGrant { gref, page })
}

impl Drop for PvGrant {
    fn drop(&mut self) {
        let (flags, _, _) = entry(self.gref);
        let mut current = flags.load(Ordering::SeqCst);
        loop {
            if current & (GTF_READING | GTF_WRITING) != 0 {
                // The peer still maps the page: it can be neither reused nor freed (Xen
                // would let the peer keep writing it). Kept, reference and page.
                return;
            }
            match flags.compare_exchange(current, 0, Ordering::SeqCst, Ordering::SeqCst) {
                Ok(_) => break,
                Err(now) => current = now,
            }
        }
        STATE.with(|state| state.free.push(self.gref));
        // SAFETY: allocated in `share` with this layout; no domain can reach it any more.
        unsafe { dealloc(self.page, page_layout()) };
    }
}

// SAFETY: a page-sized allocation that lives until the grant is dropped.
unsafe impl SharedMemory for PvGrant {
    fn as_ptr(&self) -> *mut u8 {
        self.page
    }
    fn len(&self) -> usize {
        PAGE_SIZE
    }
}

impl mirage_xen::platform::Grant for PvGrant {
    fn gref(&self) -> GrantRef {
        self.gref
    }
}
