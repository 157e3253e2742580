//! A limit on how long a flow's read or write may wait without progress (the stacks'
//! idle timeout): a peer that stays up but sends nothing, or for a write takes nothing (a
//! zero window, whose probes it answers), would otherwise hold its connection for ever.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::{Instant, Sleep};

/// The wait of one direction of a flow.
#[derive(Default)]
pub(crate) struct Stall {
    /// When the current wait began (`None`: not waiting).
    since: Cell<Option<Instant>>,
    /// The timer, made on the first wait and reset only when it fires early, so that a
    /// busy flow costs a clock read per wait and no timer upkeep.
    timer: RefCell<Option<Pin<Box<Sleep>>>>,
}

impl Stall {
    /// The operation made progress (or finished): the wait is over.
    pub(crate) fn progressed(&self) {
        self.since.set(None);
    }

    /// The operation must wait: `true` when it has now waited `limit` without progress
    /// (the caller fails it); otherwise the task of `cx` is woken when the limit passes.
    pub(crate) fn waiting(&self, limit: Duration, cx: &mut Context<'_>) -> bool {
        let since = match self.since.get() {
            Some(since) => since,
            None => {
                let now = Instant::now();
                self.since.set(Some(now));
                now
            }
        };
        let deadline = since + limit;
        let mut timer = self.timer.borrow_mut();
        let timer = timer.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        loop {
            match timer.as_mut().poll(cx) {
                Poll::Pending => return false,
                Poll::Ready(()) if timer.deadline() >= deadline => return true,
                // It was set for an earlier wait: set it for this one.
                Poll::Ready(()) => timer.as_mut().reset(deadline),
            }
        }
    }
}
