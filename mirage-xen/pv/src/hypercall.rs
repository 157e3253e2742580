//! Hypercalls of a 64-bit PV guest: `syscall` with the number in `rax` and arguments in
//! `rdi`, `rsi`, `rdx`, `r10`, `r8` (what the stubs of Xen's hypercall page do; calling
//! `syscall` directly needs no page). Every argument register is clobbered.

/// `mmu_update`.
pub const MMU_UPDATE: u64 = 1;
/// `set_timer_op`.
pub const SET_TIMER_OP: u64 = 15;
/// `grant_table_op`.
pub const GRANT_TABLE_OP: u64 = 20;
/// `update_va_mapping`.
pub const UPDATE_VA_MAPPING: u64 = 14;
/// `vcpu_op`.
pub const VCPU_OP: u64 = 24;
/// `sched_op` (not the compat number 6).
pub const SCHED_OP: u64 = 29;
/// `event_channel_op` (not the compat number 16).
pub const EVENT_CHANNEL_OP: u64 = 32;

/// Calls hypercall `nr` with four arguments; the result is Xen's (negative errno on
/// failure).
///
/// # Safety
///
/// The arguments must be what hypercall `nr` expects: pointers to live memory of the right
/// layout where it takes pointers.
#[inline(always)]
pub unsafe fn hypercall4(nr: u64, a1: u64, a2: u64, a3: u64, a4: u64) -> i64 {
    let result: i64;
    // SAFETY: the caller vouches for the arguments; `syscall` enters Xen, which returns
    // here with rcx and r11 clobbered.
    unsafe {
        core::arch::asm!(
            "syscall",
            inlateout("rax") nr as i64 => result,
            inlateout("rdi") a1 => _,
            inlateout("rsi") a2 => _,
            inlateout("rdx") a3 => _,
            inlateout("r10") a4 => _,
            lateout("r8") _,
            lateout("r9") _,
            lateout("rcx") _,
            lateout("r11") _,
        );
    }
    result
}

/// Calls hypercall `nr` with three arguments; the result is Xen's (negative errno on
/// failure).
///
/// # Safety
/// The arguments must be what hypercall `nr` expects: pointers to memory of the right
/// layout that lives through the call.
#[inline(always)]
pub unsafe fn hypercall3(nr: u64, a1: u64, a2: u64, a3: u64) -> i64 {
    // SAFETY: as the caller vouches; the fourth argument is unused.
    unsafe { hypercall4(nr, a1, a2, a3, 0) }
}

/// [`hypercall3`] with two arguments.
///
/// # Safety
/// As [`hypercall3`].
#[inline(always)]
pub unsafe fn hypercall2(nr: u64, a1: u64, a2: u64) -> i64 {
    // SAFETY: as the caller vouches.
    unsafe { hypercall3(nr, a1, a2, 0) }
}

/// `sched_op` commands.
pub mod sched {
    /// Gives up the CPU for a moment.
    pub const YIELD: u64 = 0;
    /// Shuts the domain down (`struct sched_shutdown { u32 reason }`).
    pub const SHUTDOWN: u64 = 2;
    /// Sleeps until one of some ports is pending or a timeout (`struct sched_poll`).
    pub const POLL: u64 = 3;
}

/// `event_channel_op` commands.
pub mod evtchn {
    /// `EVTCHNOP_bind_interdomain`.
    pub const BIND_INTERDOMAIN: u64 = 0;
    /// `EVTCHNOP_close`.
    pub const CLOSE: u64 = 3;
    /// `EVTCHNOP_send`.
    pub const SEND: u64 = 4;
    /// `EVTCHNOP_alloc_unbound`.
    pub const ALLOC_UNBOUND: u64 = 6;
}

/// Sends an event on `port`.
pub fn notify(port: u32) {
    let send = port;
    // SAFETY: EVTCHNOP_send takes a pointer to `{ u32 port }`, alive through the call.
    unsafe {
        hypercall2(EVENT_CHANNEL_OP, evtchn::SEND, &raw const send as u64);
    }
}

/// Gives up the CPU for a moment.
pub fn yield_now() {
    // SAFETY: SCHEDOP_yield takes no argument.
    unsafe {
        hypercall2(SCHED_OP, sched::YIELD, 0);
    }
}
