//! Time on Xen: the shared core's timers and clocks, over Xen's system time (the monotonic
//! clock) and the wall clock Xen keeps in shared-info.

/// V1's `TIME` on Xen: sleeps are timers of the executor, which blocks in Xen until the
/// earliest is due.
pub use mirage_unikernel::KernelTime as PvTime;

/// Mirage 4's `MCLOCK` on Xen: Xen's system time (nanoseconds since the hypervisor booted),
/// never reported smaller than a reading this guest already returned.
pub use mirage_unikernel::KernelMonotonicClock as PvMonotonicClock;

/// V1's `CLOCK` on Xen: the wall clock Xen keeps in shared-info.
pub use mirage_unikernel::KernelClock as PvClock;
