//! The executor on a host platform: timers fire in order and no earlier than asked, a
//! dropped sleep leaves no timer behind, device events wake their waiters, and the CPU is
//! given to the platform while nothing is ready.

use futures::future::{join, select};
use mirage_types::{MonotonicClock, Time};
use mirage_unikernel::executor::{forget_event, wait_event};
use mirage_unikernel::{Exit, KernelMonotonicClock, KernelTime, Platform, block_on, install};
use std::future::poll_fn;
use std::pin::pin;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::task::Poll;
use std::time::{Duration, Instant};

/// The host's clock; event 7 becomes ready once the clock passes `READY_AT`; waits are
/// counted.
struct Host {
    origin: OnceLock<Instant>,
    ready_at: AtomicU64,
    waits: AtomicU32,
}

const EVENT: u32 = 7;

impl Platform for Host {
    fn monotonic_ns(&self) -> u64 {
        self.origin.get_or_init(Instant::now).elapsed().as_nanos() as u64
    }
    fn wall_ns(&self) -> u64 {
        0
    }
    fn console_write(&self, _bytes: &[u8]) {}
    fn is_ready(&self, event: u32) -> bool {
        event == EVENT && self.monotonic_ns() >= self.ready_at.load(Ordering::SeqCst)
    }
    fn wait(&self, events: &[u32], deadline: Option<u64>) {
        self.waits.fetch_add(1, Ordering::SeqCst);
        let mut until = deadline.unwrap_or(u64::MAX);
        if events.contains(&EVENT) {
            until = until.min(self.ready_at.load(Ordering::SeqCst));
        }
        let now = self.monotonic_ns();
        std::thread::sleep(Duration::from_nanos(
            until.saturating_sub(now).min(1_000_000_000),
        ));
    }
    fn exit(&self, _how: Exit) -> ! {
        unreachable!("the tests never exit")
    }
}

static HOST: Host = Host {
    origin: OnceLock::new(),
    ready_at: AtomicU64::new(u64::MAX),
    waits: AtomicU32::new(0),
};

/// One test at a time: they share the platform and its event.
static SERIAL: Mutex<()> = Mutex::new(());

/// The lock of one test (the one that panics on purpose poisons it).
fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn host() -> &'static Host {
    install(&HOST);
    &HOST
}

#[test]
fn sleeps_end_in_order_no_earlier_than_asked_and_the_cpu_waits_meanwhile() {
    let _serial = serial();
    let host = host();
    let waits = host.waits.load(Ordering::SeqCst);
    let start = Instant::now();
    let order = Mutex::new(Vec::new());
    let sleeper = |ms: u64| {
        let order = &order;
        async move {
            KernelTime.sleep(Duration::from_millis(ms)).await;
            order.lock().unwrap().push(ms);
            start.elapsed()
        }
    };
    let (long, short) = block_on(join(sleeper(60), sleeper(20)));
    assert_eq!(*order.lock().unwrap(), [20, 60]);
    assert!(short >= Duration::from_millis(20) && long >= Duration::from_millis(60));
    assert!(long < Duration::from_secs(2), "{long:?}");
    // Two sleeps: the platform was asked to wait (not spun on) a handful of times.
    let waited = host.waits.load(Ordering::SeqCst) - waits;
    assert!((1..20).contains(&waited), "{waited} waits");
}

#[test]
fn a_dropped_sleep_leaves_no_timer_to_wait_for() {
    let _serial = serial();
    host();
    let start = Instant::now();
    // The long sleep loses the race and is dropped; block_on then returns without waiting
    // for its deadline.
    let won = block_on(async {
        let long = pin!(KernelTime.sleep(Duration::from_secs(30)));
        let short = pin!(KernelTime.sleep(Duration::from_millis(10)));
        matches!(select(long, short).await, futures::future::Either::Right(_))
    });
    assert!(won);
    assert!(start.elapsed() < Duration::from_secs(5));
}

#[test]
fn a_device_event_wakes_its_waiter() {
    let _serial = serial();
    let host = host();
    host.ready_at
        .store(host.monotonic_ns() + 30_000_000, Ordering::SeqCst);
    let woke_at = block_on(poll_fn(|cx| {
        if host.is_ready(EVENT) {
            return Poll::Ready(host.monotonic_ns());
        }
        wait_event(EVENT, cx.waker());
        Poll::Pending
    }));
    forget_event(EVENT);
    assert!(woke_at >= host.ready_at.load(Ordering::SeqCst));
    host.ready_at.store(u64::MAX, Ordering::SeqCst);
}

#[test]
fn the_monotonic_clock_never_goes_back() {
    let _serial = serial();
    host();
    let mut last = 0;
    for _ in 0..1000 {
        let now = KernelMonotonicClock.elapsed_ns();
        assert!(now >= last);
        last = now;
    }
}

#[test]
#[should_panic(expected = "waits for nothing")]
fn a_future_that_waits_for_nothing_is_a_panic_not_a_hang() {
    let _serial = serial();
    host();
    block_on(std::future::pending::<()>());
}
