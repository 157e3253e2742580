//! One wait listened to by several tasks at once (an event channel, or a store watch):
//! whoever waits polls the one wait, and when it fires every waiter is woken to look at its
//! own condition.
//!
//! The port's wait remembers only the task that polled it last. A task whose condition came
//! true another way (a response another task took in for it) must [`Events::leave`], so that
//! if it was that task another waiter takes over the wait: otherwise the next event would
//! wake a task that no longer listens, and the others would sleep on.

#[allow(unused_imports)]
use crate::prelude::*;

use crate::platform::Port;
use alloc::rc::Rc;
use core::task::{Context, Poll, Waker};
use futures::future::LocalBoxFuture;

/// Makes the wait afresh each time the last one fired.
type MakeWait = Box<dyn Fn() -> LocalBoxFuture<'static, ()>>;

/// The shared wait.
pub(crate) struct Events {
    make: MakeWait,
    wait: Option<LocalBoxFuture<'static, ()>>,
    waiters: Vec<Waker>,
    /// The task that polled the wait last, whom the port will wake.
    polled_by: Option<Waker>,
}

impl Events {
    /// Waits for `port`'s events.
    pub(crate) fn new<P: Port + 'static>(port: Rc<P>) -> Self {
        Self::of(move || {
            let port = port.clone();
            Box::pin(async move { port.wait().await })
        })
    }

    /// Waits for what the futures `make` makes wait for, one after the other.
    pub(crate) fn of(make: impl Fn() -> LocalBoxFuture<'static, ()> + 'static) -> Self {
        Events {
            make: Box::new(make),
            wait: None,
            waiters: Vec::new(),
            polled_by: None,
        }
    }

    /// Ready once an event came since the wait began; every other waiter is then woken.
    pub(crate) fn poll(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if !self.waiters.iter().any(|w| w.will_wake(cx.waker())) {
            self.waiters.push(cx.waker().clone());
        }
        let wait = self.wait.get_or_insert_with(&self.make);
        match wait.as_mut().poll(cx) {
            Poll::Ready(()) => {
                self.wait = None;
                self.polled_by = None;
                for waker in self.waiters.drain(..) {
                    waker.wake();
                }
                Poll::Ready(())
            }
            Poll::Pending => {
                self.polled_by = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }

    /// A waiter went away without its context (its future was dropped): every waiter looks
    /// again, so that one of them takes the wait over.
    pub(crate) fn wake_all(&mut self) {
        self.polled_by = None;
        for waker in &self.waiters {
            waker.wake_by_ref();
        }
    }

    /// The task of `cx` waits no longer. If the port would wake it, another waiter is woken
    /// to take the wait over.
    pub(crate) fn leave(&mut self, cx: &Context<'_>) {
        self.waiters.retain(|w| !w.will_wake(cx.waker()));
        if self
            .polled_by
            .as_ref()
            .is_some_and(|w| w.will_wake(cx.waker()))
        {
            self.polled_by = None;
            if let Some(next) = self.waiters.first() {
                next.wake_by_ref();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::EventChannels;
    use crate::platform::sim::SimXen;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    /// A waker that counts its wake-ups.
    struct Counter(AtomicUsize);

    impl Wake for Counter {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_waiter_that_leaves_hands_the_wait_over() {
        let xen = SimXen::new();
        let (a, b) = (xen.domain(1), xen.domain(2));
        let port = a.alloc_unbound(2).unwrap();
        let peer = b.bind_interdomain(1, port.number()).unwrap();
        let mut events = Events::new(Rc::new(port));
        let (first, second) = (
            Arc::new(Counter(AtomicUsize::new(0))),
            Arc::new(Counter(AtomicUsize::new(0))),
        );
        let (first_waker, second_waker) = (Waker::from(first.clone()), Waker::from(second.clone()));
        assert!(
            events
                .poll(&mut Context::from_waker(&first_waker))
                .is_pending()
        );
        assert!(
            events
                .poll(&mut Context::from_waker(&second_waker))
                .is_pending()
        );
        // The second, whom the port would wake, is done another way and leaves.
        events.leave(&Context::from_waker(&second_waker));
        assert_eq!(
            first.0.load(Ordering::SeqCst),
            1,
            "the first takes the wait over"
        );
        // It polls again, and the next event reaches it.
        assert!(
            events
                .poll(&mut Context::from_waker(&first_waker))
                .is_pending()
        );
        crate::platform::Port::notify(&peer);
        assert_eq!(first.0.load(Ordering::SeqCst), 2);
        assert!(
            events
                .poll(&mut Context::from_waker(&first_waker))
                .is_ready()
        );
        assert_eq!(second.0.load(Ordering::SeqCst), 0);
    }
}
