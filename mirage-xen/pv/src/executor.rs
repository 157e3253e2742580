//! The executor is the shared core's (`mirage_unikernel::block_on`): it blocks in Xen
//! (`SCHEDOP_poll` on the event channels tasks wait on, until the next timer), so an idle
//! guest uses no CPU. Event upcalls stay masked:
//! everything is polled. This module keeps what is Xen's: the poll itself, and the cell for
//! the kernel's own statics.

use crate::hypercall::{SCHED_OP, hypercall2, sched};
use core::cell::RefCell;
pub use mirage_unikernel::block_on;

/// State of the one vCPU, reached from futures.
pub(crate) struct Global<T>(pub(crate) RefCell<T>);

// SAFETY: one vCPU, upcalls masked: nothing runs concurrently with the code borrowing it.
unsafe impl<T> Sync for Global<T> {}

impl<T> Global<T> {
    pub(crate) const fn new(value: T) -> Self {
        Global(RefCell::new(value))
    }

    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        f(&mut self.0.borrow_mut())
    }
}

/// `struct sched_poll`.
#[repr(C)]
struct SchedPoll {
    ports: *const u32,
    nr_ports: u32,
    timeout: u64,
}

/// Blocks in Xen until one of `ports` is pending or `timeout` (absolute system time; 0 is
/// none) passes.
pub(crate) fn sched_poll(ports: &[u32], timeout: u64) {
    let poll = SchedPoll {
        ports: ports.as_ptr(),
        nr_ports: ports.len() as u32,
        // Xen's time is signed: a deadline past i64::MAX would be in the past and return at
        // once, spinning.
        timeout: timeout.min(i64::MAX as u64 / 2),
    };
    // SAFETY: SCHEDOP_poll reads `struct sched_poll` and the port array, both alive
    // through the call.
    unsafe {
        hypercall2(SCHED_OP, sched::POLL, &raw const poll as u64);
    }
}

/// Blocks in Xen until `port` is pending or `deadline` (system time) passes, outside the
/// executor (draining the console at shutdown).
pub(crate) fn poll_one(port: u32, deadline: u64) {
    sched_poll(&[port], deadline.max(1));
}
