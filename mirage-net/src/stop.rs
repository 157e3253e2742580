//! Waiting for a stack to stop: a flag, and a notification sent when it is set.

use std::cell::Cell;
use tokio::sync::Notify;

/// Resolves once `flag` is set. Whoever sets it calls `notify.notify_waiters()`; a waiter
/// registers before it looks at the flag, so the notification cannot slip between the two.
pub(crate) async fn until_set(flag: &Cell<bool>, notify: &Notify) {
    loop {
        let notified = notify.notified();
        let mut notified = std::pin::pin!(notified);
        notified.as_mut().enable();
        if flag.get() {
            return;
        }
        notified.await;
    }
}
