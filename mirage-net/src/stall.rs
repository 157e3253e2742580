//! A limit on how long a flow's read or write may wait without progress (the stacks'
//! idle timeout): a peer that stays up but sends nothing, or for a write takes nothing (a
//! zero window, whose probes it answers), would otherwise hold its connection for ever.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

use crate::platform::StackPlatform;
use alloc::boxed::Box;
use core::cell::{Cell, RefCell};
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use core::time::Duration;

/// A timer that keeps its deadline.
struct Timer {
    deadline: Duration,
    fired: Pin<Box<dyn Future<Output = ()>>>,
}

/// When the current wait began, and a timer for its end. The timer is kept between waits
/// and only made anew when it goes off before the current wait's end, so a flow that waits
/// often makes one now and then, not one per wait.
#[derive(Default)]
pub(crate) struct Stall {
    since: Cell<Option<Duration>>,
    timer: RefCell<Option<Timer>>,
}

impl Stall {
    /// The flow made progress: the next wait starts afresh.
    pub(crate) fn progressed(&self) {
        self.since.set(None);
    }

    /// Whether the wait that is going on has lasted `limit`; if not, `cx` is woken when it
    /// may have.
    pub(crate) fn waiting(
        &self,
        platform: &StackPlatform,
        limit: Duration,
        cx: &mut Context<'_>,
    ) -> bool {
        let since = match self.since.get() {
            Some(since) => since,
            None => {
                let now = platform.now();
                self.since.set(Some(now));
                now
            }
        };
        let deadline = since.saturating_add(limit);
        let mut timer = self.timer.borrow_mut();
        loop {
            let current = timer.get_or_insert_with(|| Timer {
                deadline,
                fired: platform.owned_sleep_until(deadline),
            });
            match current.fired.as_mut().poll(cx) {
                Poll::Pending => return false,
                Poll::Ready(()) if current.deadline >= deadline => return true,
                // It was set for an earlier wait: set one for this wait.
                Poll::Ready(()) => *timer = None,
            }
        }
    }
}
