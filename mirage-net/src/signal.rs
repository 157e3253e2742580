//! Telling waiting tasks that something changed (tokio's `Notify`, without a runtime): each
//! task rechecks what it waits for.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

use alloc::vec::Vec;
use core::cell::{Cell, RefCell};
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};

/// Wakes every task waiting on it. A wait counts notifications from when it was made, not
/// from its first poll, so one sent in between is not lost.
#[derive(Default)]
pub(crate) struct Signal {
    sent: Cell<u64>,
    waiting: RefCell<Vec<Waker>>,
}

impl Signal {
    /// Wakes every waiting task.
    pub(crate) fn notify(&self) {
        self.sent.set(self.sent.get().wrapping_add(1));
        let waiting = core::mem::take(&mut *self.waiting.borrow_mut());
        waiting.into_iter().for_each(Waker::wake);
    }

    /// Resolves at the next notification.
    pub(crate) fn notified(&self) -> Notified<'_> {
        Notified {
            signal: self,
            seen: self.sent.get(),
        }
    }

    /// Resolves once `done` holds, checked at each notification.
    pub(crate) async fn until(&self, done: impl Fn() -> bool) {
        loop {
            let notified = self.notified();
            if done() {
                return;
            }
            notified.await;
        }
    }
}

/// A wait for a [`Signal`].
pub(crate) struct Notified<'a> {
    signal: &'a Signal,
    seen: u64,
}

impl Future for Notified<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.signal.sent.get() != self.seen {
            return Poll::Ready(());
        }
        let mut waiting = self.signal.waiting.borrow_mut();
        // A task polled again (or many waits in one task) is listed once.
        if !waiting.iter().any(|known| known.will_wake(cx.waker())) {
            waiting.push(cx.waker().clone());
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_notification_between_making_and_polling_a_wait_is_kept() {
        let signal = Signal::default();
        let mut wait = core::pin::pin!(signal.notified());
        signal.notify();
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        assert!(
            wait.as_mut()
                .poll(&mut Context::from_waker(&waker))
                .is_ready()
        );
    }

    #[test]
    fn every_waiting_task_is_woken_once_and_listed_once() {
        let signal = Signal::default();
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        let mut cx = Context::from_waker(&waker);
        let mut first = core::pin::pin!(signal.notified());
        let mut second = core::pin::pin!(signal.notified());
        for _ in 0..3 {
            assert!(first.as_mut().poll(&mut cx).is_pending());
            assert!(second.as_mut().poll(&mut cx).is_pending());
        }
        assert_eq!(signal.waiting.borrow().len(), 1);
        signal.notify();
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        assert!(first.as_mut().poll(&mut cx).is_ready());
        assert!(second.as_mut().poll(&mut cx).is_ready());
    }
}
