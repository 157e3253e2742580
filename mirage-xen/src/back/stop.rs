//! Asking a backend to stop: a flag the serving loop watches, set from outside (a signal
//! handler's task, a test).

#[allow(unused_imports)]
use crate::prelude::*;

use core::cell::{Cell, RefCell};
use core::future::poll_fn;
use core::task::{Poll, Waker};

/// Set once; the serving loop wakes when it is.
#[derive(Default)]
pub(crate) struct StopFlag {
    set: Cell<bool>,
    waker: RefCell<Option<Waker>>,
}

impl StopFlag {
    /// Asks the loop to stop.
    pub(crate) fn set(&self) {
        self.set.set(true);
        if let Some(waker) = self.waker.borrow_mut().take() {
            waker.wake();
        }
    }

    /// Whether it was asked.
    pub(crate) fn is_set(&self) -> bool {
        self.set.get()
    }

    /// Resolves once it is asked.
    pub(crate) async fn wait(&self) {
        poll_fn(|cx| {
            if self.set.get() {
                Poll::Ready(())
            } else {
                *self.waker.borrow_mut() = Some(cx.waker().clone());
                Poll::Pending
            }
        })
        .await
    }
}
