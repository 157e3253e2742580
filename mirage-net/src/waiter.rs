//! The one task that waits for something, on the thread that will wake it.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

use core::cell::Cell;
use core::task::{Context, Waker};

/// Room for one waiting task's waker (the stack's driver, a link's listener): what a tokio
/// `Notify` or `AtomicWaker` does, without their lock or atomics, for a waiter and wakers that
/// live on one thread.
#[derive(Default)]
pub(crate) struct Waiter(Cell<Option<Waker>>);

impl Waiter {
    /// Keeps `cx`'s waker to be woken, in place of any other (without cloning it again when
    /// the same task waits again).
    pub(crate) fn register(&self, cx: &Context<'_>) {
        let waker = match self.0.take() {
            Some(waker) if waker.will_wake(cx.waker()) => waker,
            _ => cx.waker().clone(),
        };
        self.0.set(Some(waker));
    }

    /// Wakes the waiting task, if any; it must register again to be woken again.
    pub(crate) fn wake(&self) {
        if let Some(waker) = self.0.take() {
            waker.wake();
        }
    }
}
