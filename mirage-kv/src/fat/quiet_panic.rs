//! Catching a panic inside `fatfs` without the panic hook printing it: a corrupted image is
//! an error returned to the caller, not a message on standard error.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Once;

std::thread_local! {
    /// Set while this thread runs a guarded call.
    static GUARDED: Cell<bool> = const { Cell::new(false) };
}

static HOOK: Once = Once::new();

/// Runs `f`, turning a panic into `None`. The first call wraps the process's panic hook once:
/// the wrapper stays silent for panics inside a guarded call on its own thread and passes
/// every other panic to the hook that was there before.
pub(crate) fn catch_quietly<R>(f: impl FnOnce() -> R) -> Option<R> {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !GUARDED.with(Cell::get) {
                previous(info);
            }
        }));
    });
    let was = GUARDED.with(|guarded| guarded.replace(true));
    let result = catch_unwind(AssertUnwindSafe(f));
    GUARDED.with(|guarded| guarded.set(was));
    result.ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    static REPORTED: AtomicUsize = AtomicUsize::new(0);

    #[test]
    fn a_guarded_panic_is_caught_without_a_word_and_others_still_reach_the_hook() {
        std::panic::set_hook(Box::new(|_| {
            REPORTED.fetch_add(1, Ordering::SeqCst);
        }));
        assert_eq!(catch_quietly(|| -> u32 { panic!("inside fatfs") }), None);
        assert_eq!(
            REPORTED.load(Ordering::SeqCst),
            0,
            "the guarded panic was reported"
        );
        assert_eq!(catch_quietly(|| 7), Some(7));
        // Outside a guarded call, panics are reported as before.
        let _ = catch_unwind(|| panic!("elsewhere"));
        assert_eq!(REPORTED.load(Ordering::SeqCst), 1);
        let _ = std::panic::take_hook();
    }
}
