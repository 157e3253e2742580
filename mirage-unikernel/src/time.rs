//! Time on a unikernel: sleeps are timers of the executor, and the monotonic clock is the
//! platform's, never reported going back.

use crate::executor::{TimerKey, add_timer, cancel_timer};
use crate::platform::platform;
use alloc::boxed::Box;
use core::future::Future;
use core::pin::Pin;
use core::sync::atomic::{AtomicU64, Ordering};
use core::task::{Context, Poll};
use core::time::Duration;

/// V1's `TIME`: sleeps on the executor's timers.
#[derive(Debug, Clone, Copy, Default)]
pub struct KernelTime;

impl KernelTime {
    /// Nanoseconds on the platform's monotonic clock.
    pub fn now_ns(&self) -> u64 {
        platform().monotonic_ns()
    }
}

#[async_trait::async_trait(?Send)]
impl mirage_types::Time for KernelTime {
    async fn sleep(&self, duration: Duration) {
        let ns = u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX);
        Sleep::until(platform().monotonic_ns().saturating_add(ns)).await
    }
}

/// A future that resolves once the monotonic clock reaches a deadline.
#[derive(Debug)]
pub struct Sleep {
    deadline: u64,
    timer: Option<TimerKey>,
}

impl Sleep {
    /// Sleeps until the monotonic clock reads `deadline` (ns).
    pub fn until(deadline: u64) -> Self {
        Sleep {
            deadline,
            timer: None,
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if let Some(timer) = self.timer.take() {
            cancel_timer(timer);
        }
        if platform().monotonic_ns() >= self.deadline {
            return Poll::Ready(());
        }
        self.timer = Some(add_timer(self.deadline, cx.waker()));
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Some(timer) = self.timer.take() {
            cancel_timer(timer);
        }
    }
}

/// Mirage 4's `MCLOCK`: the platform's monotonic clock, never reported smaller than a
/// reading already returned (a hypervisor may correct its clock's scale now and then, and a
/// correction may step a reading back a little).
#[derive(Debug, Clone, Copy, Default)]
pub struct KernelMonotonicClock;

/// The largest reading returned so far.
static LAST_READING: AtomicU64 = AtomicU64::new(0);

impl mirage_types::MonotonicClock for KernelMonotonicClock {
    fn elapsed_ns(&self) -> u64 {
        let now = platform().monotonic_ns();
        let before = LAST_READING.fetch_max(now, Ordering::Relaxed);
        now.max(before)
    }

    fn period_ns(&self) -> Option<u64> {
        Some(1)
    }
}

/// V1's `CLOCK`: the platform's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct KernelClock;

impl mirage_types::Clock for KernelClock {
    fn time(&self) -> f64 {
        platform().wall_ns() as f64 / 1e9
    }
}
