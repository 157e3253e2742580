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
///
/// Each wait holds one slot of the list while it is pending, replaces its waker there when
/// polled again and gives the slot back when dropped: the list is as long as the waits
/// pending now, however often they are polled (`Waker::will_wake` alone cannot promise
/// that: two wakers of one task may compare unequal, and the list grew by one per poll).
#[derive(Default)]
pub(crate) struct Signal {
    sent: Cell<u64>,
    waiting: RefCell<Slots>,
}

/// The wakers of pending waits; free slots are reused.
#[derive(Default)]
struct Slots {
    wakers: Vec<Option<Waker>>,
    free: Vec<usize>,
}

impl Signal {
    /// Wakes every waiting task.
    pub(crate) fn notify(&self) {
        self.sent.set(self.sent.get().wrapping_add(1));
        let waiting = core::mem::take(&mut *self.waiting.borrow_mut());
        waiting.wakers.into_iter().flatten().for_each(Waker::wake);
    }

    /// Resolves at the next notification.
    pub(crate) fn notified(&self) -> Notified<'_> {
        Notified {
            signal: self,
            seen: self.sent.get(),
            slot: None,
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

    /// How many waits are listed (for the tests).
    #[cfg(test)]
    fn listed(&self) -> usize {
        let waiting = self.waiting.borrow();
        waiting.wakers.len() - waiting.free.len()
    }
}

/// A wait for a [`Signal`].
pub(crate) struct Notified<'a> {
    signal: &'a Signal,
    seen: u64,
    /// Its slot in the list, while listed (a notification empties the list).
    slot: Option<usize>,
}

impl Future for Notified<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.signal.sent.get() != self.seen {
            self.slot = None;
            return Poll::Ready(());
        }
        let mut waiting = self.signal.waiting.borrow_mut();
        match self.slot {
            Some(slot) => match &mut waiting.wakers[slot] {
                Some(known) if known.will_wake(cx.waker()) => {}
                listed => *listed = Some(cx.waker().clone()),
            },
            None => {
                let slot = match waiting.free.pop() {
                    Some(slot) => {
                        waiting.wakers[slot] = Some(cx.waker().clone());
                        slot
                    }
                    None => {
                        waiting.wakers.push(Some(cx.waker().clone()));
                        waiting.wakers.len() - 1
                    }
                };
                drop(waiting);
                self.slot = Some(slot);
            }
        }
        Poll::Pending
    }
}

impl Drop for Notified<'_> {
    fn drop(&mut self) {
        // Listed only until the next notification, which empties the list.
        if let Some(slot) = self.slot
            && self.signal.sent.get() == self.seen
        {
            let mut waiting = self.signal.waiting.borrow_mut();
            waiting.wakers[slot] = None;
            waiting.free.push(slot);
        }
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
    fn every_wait_is_woken_once_and_listed_once() {
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
        assert_eq!(signal.listed(), 2);
        signal.notify();
        assert_eq!(count.0.load(Ordering::SeqCst), 2);
        assert!(first.as_mut().poll(&mut cx).is_ready());
        assert!(second.as_mut().poll(&mut cx).is_ready());
    }

    /// However a waker compares, polling a wait again does not lengthen the list, and a
    /// dropped wait leaves it.
    #[test]
    fn the_list_is_as_long_as_the_waits_pending() {
        let signal = Signal::default();
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let mut wait = Box::pin(signal.notified());
        for _ in 0..1000 {
            // A new waker each time: `will_wake` says no to every one.
            let waker = Waker::from(Arc::new(Count(AtomicUsize::new(0))));
            assert!(
                wait.as_mut()
                    .poll(&mut Context::from_waker(&waker))
                    .is_pending()
            );
        }
        assert_eq!(signal.listed(), 1);
        drop(wait);
        assert_eq!(signal.listed(), 0);
        // The freed slot is reused; the last waker polled is the one woken.
        let mut again = Box::pin(signal.notified());
        let waker = Waker::from(count.clone());
        assert!(
            again
                .as_mut()
                .poll(&mut Context::from_waker(&waker))
                .is_pending()
        );
        assert_eq!(signal.waiting.borrow().wakers.len(), 1);
        signal.notify();
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        assert!(
            again
                .as_mut()
                .poll(&mut Context::from_waker(&waker))
                .is_ready()
        );
    }
}
