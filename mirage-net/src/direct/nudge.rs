//! How the application, the network and the stack's own parts ask the driver to poll.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

use crate::waiter::Waiter;
use core::cell::Cell;
use core::future::poll_fn;
use core::task::Poll;

/// A request to poll, for the one driver of a stack, made on the driver's own thread: a flag
/// and the driver's waker, where tokio's `Notify` takes a lock and keeps a list of waiters.
/// Requests made before the driver polls are served by that poll.
#[derive(Default)]
pub(crate) struct Nudge {
    pending: Cell<bool>,
    waiter: Waiter,
}

impl Nudge {
    /// Asks the driver to poll (at once if it is waiting).
    pub(crate) fn notify(&self) {
        self.pending.set(true);
        self.waiter.wake();
    }

    /// Whether the driver was asked to poll since it last started one.
    pub(crate) fn is_pending(&self) -> bool {
        self.pending.get()
    }

    /// The driver starts a poll: it serves every request made so far.
    pub(crate) fn start_poll(&self) {
        self.pending.set(false);
    }

    /// Resolves once the driver is asked to poll (at once if it already was).
    pub(crate) async fn requested(&self) {
        poll_fn(|cx| {
            if self.pending.get() {
                return Poll::Ready(());
            }
            self.waiter.register(cx);
            Poll::Pending
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Waker};

    #[test]
    fn a_request_wakes_the_waiting_driver_once() {
        let nudge = Nudge::default();
        let woken = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let waker = waker_counting(woken.clone());
        let mut cx = Context::from_waker(&waker);
        let mut requested = pin!(nudge.requested());
        assert!(requested.as_mut().poll(&mut cx).is_pending());
        nudge.notify();
        nudge.notify();
        assert_eq!(woken.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert!(requested.as_mut().poll(&mut cx).is_ready());
    }

    #[test]
    fn a_request_before_the_wait_is_kept_until_a_poll_starts() {
        let nudge = Nudge::default();
        nudge.notify();
        assert!(nudge.is_pending());
        let waker = waker_counting(Default::default());
        let mut cx = Context::from_waker(&waker);
        assert!(pin!(nudge.requested()).poll(&mut cx).is_ready());
        nudge.start_poll();
        assert!(!nudge.is_pending());
        assert!(pin!(nudge.requested()).poll(&mut cx).is_pending());
    }

    fn waker_counting(count: std::sync::Arc<std::sync::atomic::AtomicUsize>) -> Waker {
        struct Count(std::sync::Arc<std::sync::atomic::AtomicUsize>);
        impl std::task::Wake for Count {
            fn wake(self: std::sync::Arc<Self>) {
                self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        }
        Waker::from(std::sync::Arc::new(Count(count)))
    }
}
