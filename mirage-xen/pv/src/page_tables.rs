//! Mapping all of the domain's memory. Xen maps only the image and the bootstrap elements
//! (the p2m list, start_info, its page tables, a boot stack and at least 512 KiB after
//! them); the rest of the domain's pages (`memory =` in the `.xl`) have no virtual
//! address until the guest maps them. This maps every page at virtual address pfn × 4096,
//! as the initial mapping does, building the page tables it needs from free pages, and
//! returns the pages left for the heap.
//!
//! Xen checks every page-table write: a new table is filled while still writable (its 512
//! entries written as memory), mapped read-only, then hooked into its parent (`mmu_update`,
//! which validates it whole); entries missing from a table Xen made are added 512 to a
//! hypercall.

use crate::hypercall::{MMU_UPDATE, UPDATE_VA_MAPPING, hypercall3, hypercall4};
use crate::memory::{PAGE_SIZE, va_of_mfn};
use crate::start_info::StartInfo;
use core::ops::Range;

const PRESENT: u64 = 1;
const WRITABLE: u64 = 2;
/// A 64-bit PV kernel runs in ring 3: its pages are user pages.
const USER: u64 = 4;
const ACCESSED: u64 = 0x20;
const DIRTY: u64 = 0x40;
/// A page of the heap, and a table's entry in its parent.
const MAPPED: u64 = PRESENT | WRITABLE | USER | ACCESSED | DIRTY;
/// A table's own mapping: Xen refuses tables the guest could write.
const READ_ONLY: u64 = PRESENT | USER | ACCESSED;
const FRAME: u64 = 0x000f_ffff_ffff_f000;
const DOMID_SELF: u64 = 0x7ff0;
const UVMF_INVLPG: u64 = 2;

/// `struct mmu_update`: `ptr` is the machine address of the entry (its low bits 0:
/// `MMU_NORMAL_PT_UPDATE`), `val` the new entry.
#[repr(C)]
#[derive(Clone, Copy)]
struct MmuUpdate {
    ptr: u64,
    val: u64,
}

/// Why memory could not be mapped: the hypercall and Xen's error.
#[derive(Debug, Clone, Copy)]
pub struct MapError {
    /// What was being done.
    pub what: &'static str,
    /// Xen's result (a negative errno).
    pub rc: i64,
}

impl core::fmt::Display for MapError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "mapping the domain's memory: {} failed ({})",
            self.what, self.rc
        )
    }
}

struct Mapper<'a> {
    p2m: &'a [u64],
    /// The next free page for a table.
    next_table: usize,
    batch: [MmuUpdate; 512],
    queued: usize,
}

impl Mapper<'_> {
    /// The table an entry points to.
    fn table(entry: u64) -> *mut u64 {
        va_of_mfn((entry & FRAME) >> 12) as *mut u64
    }

    /// Entry `index` of the table at `table`, made (from a free page) if missing; a new
    /// table gets the entries `fill` gives before Xen sees it: (whether it was made, the
    /// table).
    fn child(
        &mut self,
        table: *mut u64,
        index: usize,
        fill: impl Fn(&mut [u64; 512]),
    ) -> Result<(bool, *mut u64), MapError> {
        // SAFETY: `table` is a page table mapped (read-only) in the initial mapping or by
        // this mapper; reading its entries is allowed.
        let entry = unsafe { table.add(index).read_volatile() };
        if entry & PRESENT != 0 {
            return Ok((false, Self::table(entry)));
        }
        // Pages before `next_table` are all mapped by now (the batch is flushed first).
        self.flush()?;
        let pfn = self.next_table;
        self.next_table += 1;
        let va = pfn * PAGE_SIZE;
        let mfn = self.p2m[pfn];
        // SAFETY: a free page, mapped writable, nobody's yet; a table is 512 entries.
        let entries = unsafe { &mut *(va as *mut [u64; 512]) };
        entries.fill(0);
        // Written while the page is still ours to write: Xen checks the whole table once,
        // when it is hooked in, instead of an `mmu_update` per entry.
        fill(entries);
        // SAFETY: remaps this page read-only; nothing else refers to it.
        let rc = unsafe {
            hypercall3(
                UPDATE_VA_MAPPING,
                va as u64,
                (mfn << 12) | READ_ONLY,
                UVMF_INVLPG,
            )
        };
        if rc != 0 {
            return Err(MapError {
                what: "a table's read-only mapping",
                rc,
            });
        }
        let parent = crate::memory::mfn_of(table as usize);
        self.queue(MmuUpdate {
            ptr: (parent << 12) + (index as u64) * 8,
            val: (mfn << 12) | MAPPED,
        });
        self.flush()?;
        Ok((true, va as *mut u64))
    }

    fn queue(&mut self, update: MmuUpdate) {
        self.batch[self.queued] = update;
        self.queued += 1;
    }

    fn flush(&mut self) -> Result<(), MapError> {
        if self.queued == 0 {
            return Ok(());
        }
        let mut done = 0u32;
        // SAFETY: `batch[..queued]` are `struct mmu_update`s naming this domain's tables
        // and pages; `done` lives through the call.
        let rc = unsafe {
            hypercall4(
                MMU_UPDATE,
                self.batch.as_ptr() as u64,
                self.queued as u64,
                &raw mut done as u64,
                DOMID_SELF,
            )
        };
        self.queued = 0;
        if rc != 0 {
            return Err(MapError {
                what: "mmu_update",
                rc,
            });
        }
        Ok(())
    }
}

/// Maps every page of the domain not yet mapped; returns the pages free for the heap (those
/// after the bootstrap elements and the tables made here).
pub(crate) fn map_all(start_info: &StartInfo, p2m: &[u64]) -> Result<Range<usize>, MapError> {
    let pages = p2m.len();
    // After the bootstrap tables comes Xen's boot stack (one page), which `_start` left.
    let first_free =
        (start_info.pt_base as usize).div_ceil(PAGE_SIZE) + start_info.nr_pt_frames as usize + 1;
    let mut mapper = Mapper {
        p2m,
        next_table: first_free,
        batch: [MmuUpdate { ptr: 0, val: 0 }; 512],
        queued: 0,
    };
    let l4 = start_info.pt_base as *mut u64;
    let mut pfn = first_free;
    while pfn < pages {
        let va = pfn * PAGE_SIZE;
        let none = |_: &mut [u64; 512]| {};
        let (_, l3) = mapper.child(l4, (va >> 39) & 511, none)?;
        let (_, l2) = mapper.child(l3, (va >> 30) & 511, none)?;
        // This table's pages, to the end of the table or of the domain.
        let last = pages.min((pfn | 511) + 1);
        let (made, l1) = mapper.child(l2, (va >> 21) & 511, |entries| {
            for pfn in pfn..last {
                entries[pfn & 511] = (p2m[pfn] << 12) | MAPPED;
            }
        })?;
        if made {
            pfn = last;
            continue;
        }
        // A table Xen made (the initial mapping's last): its missing entries, a hypercall.
        let l1_mfn = crate::memory::mfn_of(l1 as usize);
        for (pfn, &mfn) in p2m.iter().enumerate().take(last).skip(pfn) {
            let index = pfn & 511;
            // SAFETY: as in `child`: reading a mapped table.
            let entry = unsafe { l1.add(index).read_volatile() };
            if entry & PRESENT == 0 {
                mapper.queue(MmuUpdate {
                    ptr: (l1_mfn << 12) + (index as u64) * 8,
                    val: (mfn << 12) | MAPPED,
                });
            }
        }
        mapper.flush()?;
        pfn = last;
    }
    Ok(mapper.next_table..pages)
}
