//! The shared-info page: event channels' pending and mask bits, vCPU 0's time and the wall
//! clock. Xen gives its machine address; it is mapped over a page of `.bss`.

use crate::hypercall::{UPDATE_VA_MAPPING, hypercall3};
use crate::memory::PAGE_SIZE;
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicU64, Ordering};

#[repr(C, align(4096))]
struct Page(UnsafeCell<[u8; PAGE_SIZE]>);

// SAFETY: Xen writes the page; this kernel reads it with volatile and atomic accesses only.
unsafe impl Sync for Page {}

static SHARED_INFO: Page = Page(UnsafeCell::new([0; PAGE_SIZE]));

/// Offsets in `struct shared_info` (xen.h).
const EVTCHN_PENDING: usize = 2048;
const EVTCHN_MASK: usize = 2560;
const WC_VERSION: usize = 3072;
const WC_SEC: usize = 3076;
const WC_NSEC: usize = 3080;
const WC_SEC_HI: usize = 3084;
/// vCPU 0's `vcpu_time_info`.
const VCPU0_TIME: usize = 32;

/// Whether the page is mapped (time reads are meaningless before).
static MAPPED: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);

/// Whether shared-info is mapped yet.
pub fn mapped() -> bool {
    MAPPED.load(Ordering::SeqCst)
}

/// Maps the page whose machine address is `maddr` over [`SHARED_INFO`].
pub(crate) fn init(maddr: u64) -> Result<(), i64> {
    // Present, writable, user (PV kernels run in ring 3), accessed, dirty.
    let pte = maddr | 0x67;
    const UVMF_INVLPG: u64 = 2;
    // SAFETY: remaps one page of our own .bss, which nothing else uses, to the shared-info
    // frame.
    let rc = unsafe {
        hypercall3(
            UPDATE_VA_MAPPING,
            SHARED_INFO.0.get() as u64,
            pte,
            UVMF_INVLPG,
        )
    };
    if rc != 0 {
        return Err(rc);
    }
    MAPPED.store(true, Ordering::SeqCst);
    Ok(())
}

fn base() -> *mut u8 {
    SHARED_INFO.0.get().cast()
}

fn read<T: Copy>(offset: usize) -> T {
    // SAFETY: an aligned field inside the mapped page.
    unsafe { core::ptr::read_volatile(base().add(offset).cast::<T>()) }
}

fn word(array: usize, port: u32) -> &'static AtomicU64 {
    // SAFETY: word `port / 64` of a 64-word array in the mapped page; ports are < 4096.
    unsafe {
        &*base()
            .add(array + (port as usize / 64) * 8)
            .cast::<AtomicU64>()
    }
}

/// Clears port's pending bit; whether it was set.
pub fn take_pending(port: u32) -> bool {
    let bit = 1u64 << (port % 64);
    word(EVTCHN_PENDING, port).fetch_and(!bit, Ordering::SeqCst) & bit != 0
}

/// Whether port's pending bit is set.
pub fn is_pending(port: u32) -> bool {
    word(EVTCHN_PENDING, port).load(Ordering::SeqCst) & (1 << (port % 64)) != 0
}

/// Masks port: events set its pending bit but never an upcall (this kernel polls).
pub fn mask(port: u32) {
    word(EVTCHN_MASK, port).fetch_or(1 << (port % 64), Ordering::SeqCst);
}

/// Xen's system time: nanoseconds since it booted, from vCPU 0's time record and the TSC.
pub fn system_time_ns() -> u64 {
    loop {
        let version: u32 = read(VCPU0_TIME);
        core::sync::atomic::fence(Ordering::Acquire);
        let tsc_timestamp: u64 = read(VCPU0_TIME + 8);
        let system_time: u64 = read(VCPU0_TIME + 16);
        let mul: u32 = read(VCPU0_TIME + 24);
        let shift: i8 = read(VCPU0_TIME + 28);
        // SAFETY: rdtsc has no preconditions.
        let tsc = unsafe { core::arch::x86_64::_rdtsc() };
        core::sync::atomic::fence(Ordering::Acquire);
        if version % 2 == 1 || read::<u32>(VCPU0_TIME) != version {
            continue;
        }
        return system_time.wrapping_add(scale(tsc.wrapping_sub(tsc_timestamp), mul, shift));
    }
}

/// Nanoseconds in `ticks` of the TSC, at Xen's scale for it (`tsc_to_system_mul`,
/// `tsc_shift`).
fn scale(ticks: u64, mul: u32, shift: i8) -> u64 {
    let ticks = if shift >= 0 {
        ticks << shift
    } else {
        ticks >> -shift
    };
    ((u128::from(ticks) * u128::from(mul)) >> 32) as u64
}

/// Nanoseconds in `ticks` of the TSC (the scale as vCPU 0's time record gives it now).
pub fn tsc_ns(ticks: u64) -> u64 {
    scale(ticks, read(VCPU0_TIME + 24), read(VCPU0_TIME + 28))
}

/// The wall clock when Xen's system time was 0: (seconds, nanoseconds) since the epoch.
pub fn wall_clock_base() -> (u64, u32) {
    loop {
        let version: u32 = read(WC_VERSION);
        core::sync::atomic::fence(Ordering::Acquire);
        let sec = u64::from(read::<u32>(WC_SEC)) | (u64::from(read::<u32>(WC_SEC_HI)) << 32);
        let nsec: u32 = read(WC_NSEC);
        core::sync::atomic::fence(Ordering::Acquire);
        if version.is_multiple_of(2) && read::<u32>(WC_VERSION) == version {
            return (sec, nsec);
        }
    }
}
