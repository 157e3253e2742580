//! The single-threaded executor: runs the application's future and, when nothing is ready,
//! blocks the CPU in the platform ([`Platform::wait`](crate::Platform::wait)) until the next
//! timer or a device event the tasks wait on, so an idle unikernel uses no CPU.

use crate::platform::platform;
use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::task::Wake;
use alloc::vec::Vec;
use core::future::Future;
use core::sync::atomic::{AtomicBool, Ordering};
use core::task::{Context, Poll, Waker};

/// What tasks wait for.
struct Waiters {
    /// Timers by (deadline on the monotonic clock, id).
    timers: BTreeMap<(u64, u64), Waker>,
    next_timer: u64,
    /// Device events and their waiting tasks.
    events: BTreeMap<u32, Vec<Waker>>,
}

static WAITERS: spin::Mutex<Waiters> = spin::Mutex::new(Waiters {
    timers: BTreeMap::new(),
    next_timer: 0,
    events: BTreeMap::new(),
});

/// A timer registered with [`add_timer`], for [`cancel_timer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimerKey(u64, u64);

/// Registers `waker` to be woken once the monotonic clock reaches `deadline` (ns).
pub fn add_timer(deadline: u64, waker: &Waker) -> TimerKey {
    let mut waiters = WAITERS.lock();
    waiters.next_timer += 1;
    let key = (deadline, waiters.next_timer);
    waiters.timers.insert(key, waker.clone());
    TimerKey(key.0, key.1)
}

/// Forgets a timer (its future went away or fired).
pub fn cancel_timer(key: TimerKey) {
    WAITERS.lock().timers.remove(&(key.0, key.1));
}

/// Registers `waker` to be woken when device event `event` is ready.
pub fn wait_event(event: u32, waker: &Waker) {
    let mut waiters = WAITERS.lock();
    let wakers = waiters.events.entry(event).or_default();
    if !wakers.iter().any(|known| known.will_wake(waker)) {
        wakers.push(waker.clone());
    }
}

/// Forgets the waiters of an event that goes away (a closed channel, a removed device).
pub fn forget_event(event: u32) {
    WAITERS.lock().events.remove(&event);
}

/// Wakes the tasks whose timer expired or whose event is ready; whether any.
fn dispatch() -> bool {
    let platform = platform();
    let now = platform.monotonic_ns();
    let woken: Vec<Waker> = {
        let mut waiters = WAITERS.lock();
        let mut woken = Vec::new();
        while let Some(entry) = waiters.timers.first_entry() {
            if entry.key().0 > now {
                break;
            }
            woken.push(entry.remove());
        }
        let ready: Vec<u32> = waiters
            .events
            .keys()
            .copied()
            .filter(|&event| platform.is_ready(event))
            .collect();
        for event in ready {
            woken.extend(waiters.events.remove(&event).unwrap_or_default());
        }
        woken
    };
    let any = !woken.is_empty();
    woken.into_iter().for_each(Waker::wake);
    any
}

/// Blocks in the platform until a waited event is ready or the next timer is due.
fn idle() {
    let (events, deadline) = {
        let waiters = WAITERS.lock();
        (
            waiters.events.keys().copied().collect::<Vec<u32>>(),
            waiters.timers.first_key_value().map(|(key, _)| key.0),
        )
    };
    if events.is_empty() && deadline.is_none() {
        panic!("the application waits for nothing: no timer and no device event");
    }
    platform().wait(&events, deadline);
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

/// Runs `future` to its end on the installed platform, blocking the CPU whenever it waits.
///
/// # Panics
///
/// If the future waits for nothing at all (no timer, no device event: it could never wake),
/// or no platform is installed.
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
