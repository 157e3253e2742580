//! The single-threaded executor: runs the application's future; when nothing is ready it
//! blocks in Xen (`SCHEDOP_poll` on the ports tasks wait on, until the next timer), so an
//! idle guest uses no CPU. Event upcalls stay masked: everything is polled.

use crate::hypercall::{SCHED_OP, hypercall2, sched};
use crate::shared_info;
use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::task::Wake;
use alloc::vec::Vec;
use core::cell::RefCell;
use core::future::Future;
use core::sync::atomic::{AtomicBool, Ordering};
use core::task::{Context, Poll, Waker};

/// State of the one vCPU, reached from futures: who waits on which port and timer.
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

/// What tasks wait for.
struct Waiters {
    /// Timers by (deadline in Xen system time, id).
    timers: BTreeMap<(u64, u64), Waker>,
    next_timer: u64,
    /// Ports and their waiting tasks.
    ports: BTreeMap<u32, Vec<Waker>>,
}

static WAITERS: Global<Waiters> = Global::new(Waiters {
    timers: BTreeMap::new(),
    next_timer: 0,
    ports: BTreeMap::new(),
});

/// Registers `waker` to be woken at `deadline` (Xen system time, ns); returns the timer's
/// key for [`cancel_timer`].
pub(crate) fn add_timer(deadline: u64, waker: &Waker) -> (u64, u64) {
    WAITERS.with(|w| {
        w.next_timer += 1;
        let key = (deadline, w.next_timer);
        w.timers.insert(key, waker.clone());
        key
    })
}

/// Forgets a timer (its future went away or fired).
pub(crate) fn cancel_timer(key: (u64, u64)) {
    WAITERS.with(|w| w.timers.remove(&key));
}

/// Registers `waker` to be woken when `port` is pending.
pub(crate) fn wait_port(port: u32, waker: &Waker) {
    WAITERS.with(|w| {
        let wakers = w.ports.entry(port).or_default();
        if !wakers.iter().any(|known| known.will_wake(waker)) {
            wakers.push(waker.clone());
        }
    })
}

/// Forgets the waiters of a port being closed.
pub(crate) fn forget_port(port: u32) {
    WAITERS.with(|w| w.ports.remove(&port));
}

/// Wakes the tasks whose timer expired or whose port is pending; whether any.
fn dispatch() -> bool {
    let now = shared_info::system_time_ns();
    let woken: Vec<Waker> = WAITERS.with(|w| {
        let mut woken = Vec::new();
        while let Some(entry) = w.timers.first_entry() {
            if entry.key().0 > now {
                break;
            }
            woken.push(entry.remove());
        }
        let ready: Vec<u32> = w
            .ports
            .keys()
            .copied()
            .filter(|&port| shared_info::is_pending(port))
            .collect();
        for port in ready {
            woken.extend(w.ports.remove(&port).unwrap_or_default());
        }
        woken
    });
    let any = !woken.is_empty();
    woken.into_iter().for_each(Waker::wake);
    any
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
fn sched_poll(ports: &[u32], timeout: u64) {
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

/// Blocks in Xen until a waited port is pending or the next timer is due.
fn idle() {
    let (ports, deadline) = WAITERS.with(|w| {
        (
            w.ports.keys().copied().collect::<Vec<u32>>(),
            w.timers.first_key_value().map(|(key, _)| key.0),
        )
    });
    if ports.is_empty() && deadline.is_none() {
        panic!("the application waits for nothing: no timer and no event channel");
    }
    // A deadline already past returns at once; 0 is none.
    sched_poll(&ports, deadline.map_or(0, |d| d.max(1)));
}

struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Runs `future` to its end, blocking in Xen whenever it waits.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = Box::pin(future);
    let flag = Arc::new(Flag(AtomicBool::new(true)));
    let waker = Waker::from(flag.clone());
    let mut cx = Context::from_waker(&waker);
    loop {
        if flag.0.swap(false, Ordering::SeqCst)
            && let Poll::Ready(output) = future.as_mut().poll(&mut cx)
        {
            return output;
        }
        while !flag.0.load(Ordering::SeqCst) {
            if !dispatch() {
                idle();
            }
        }
    }
}
