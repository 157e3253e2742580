//! Time: monotonic from Xen's system time (`Time`), the wall clock from shared-info
//! (`Clock`).

use crate::executor::{add_timer, cancel_timer};
use crate::shared_info::{system_time_ns, wall_clock_base};
use alloc::boxed::Box;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use core::time::Duration;

/// V1's `TIME` on Xen: sleeps are timers of the executor, which blocks in Xen until the
/// earliest is due.
#[derive(Debug, Clone, Copy, Default)]
pub struct PvTime;

impl PvTime {
    /// Nanoseconds since Xen booted.
    pub fn now_ns(&self) -> u64 {
        system_time_ns()
    }
}

#[async_trait::async_trait(?Send)]
impl mirage_types::Time for PvTime {
    async fn sleep(&self, duration: Duration) {
        let ns = u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX);
        Sleep {
            deadline: system_time_ns().saturating_add(ns),
            timer: None,
        }
        .await
    }
}

/// A sleep until a deadline (Xen system time, ns).
struct Sleep {
    deadline: u64,
    timer: Option<(u64, u64)>,
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if let Some(timer) = self.timer.take() {
            cancel_timer(timer);
        }
        if system_time_ns() >= self.deadline {
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

/// Mirage 4's `MCLOCK` on Xen: Xen's system time (nanoseconds since the hypervisor booted),
/// never reported smaller than a reading this guest already returned (Xen corrects its
/// scale and offset now and then, and a correction may step a reading back a little).
#[derive(Debug, Clone, Copy, Default)]
pub struct PvMonotonicClock;

/// The largest reading returned so far (the guest runs on one virtual CPU).
static LAST_READING: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);

impl mirage_types::MonotonicClock for PvMonotonicClock {
    fn elapsed_ns(&self) -> u64 {
        let now = system_time_ns();
        let before = LAST_READING.fetch_max(now, core::sync::atomic::Ordering::Relaxed);
        now.max(before)
    }

    fn period_ns(&self) -> Option<u64> {
        Some(1)
    }
}

/// V1's `CLOCK` on Xen: the wall clock Xen keeps in shared-info.
#[derive(Debug, Clone, Copy, Default)]
pub struct PvClock;

impl mirage_types::Clock for PvClock {
    fn time(&self) -> f64 {
        let (sec, nsec) = wall_clock_base();
        let now = system_time_ns();
        sec as f64 + (f64::from(nsec) + now as f64) / 1e9
    }
}
