//! One event channel listened to by several tasks at once: whoever waits polls the one wait
//! on the port, and when it fires every waiter is woken to look at its own condition.

#[allow(unused_imports)]
use crate::prelude::*;

use crate::platform::Port;
use alloc::rc::Rc;
use core::task::{Context, Poll, Waker};
use futures::future::LocalBoxFuture;

/// The shared wait on a port.
pub(crate) struct Events<P: Port + 'static> {
    port: Rc<P>,
    wait: Option<LocalBoxFuture<'static, ()>>,
    waiters: Vec<Waker>,
}

impl<P: Port + 'static> Events<P> {
    pub(crate) fn new(port: Rc<P>) -> Self {
        Events {
            port,
            wait: None,
            waiters: Vec::new(),
        }
    }

    /// The port.
    pub(crate) fn port(&self) -> &P {
        &self.port
    }

    /// Ready once an event came since the wait began; every other waiter is then woken.
    pub(crate) fn poll(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if !self.waiters.iter().any(|w| w.will_wake(cx.waker())) {
            self.waiters.push(cx.waker().clone());
        }
        let port = self.port.clone();
        let wait = self
            .wait
            .get_or_insert_with(|| Box::pin(async move { port.wait().await }));
        match wait.as_mut().poll(cx) {
            Poll::Ready(()) => {
                self.wait = None;
                for waker in self.waiters.drain(..) {
                    waker.wake();
                }
                Poll::Ready(())
            }
            Poll::Pending => Poll::Pending,
        }
    }
}
