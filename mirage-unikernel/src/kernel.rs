//! From the platform's boot to its exit: runs the application's `main` and turns its end
//! (returned, failed or panicked) into the platform's exit, with the reason on the console.

use crate::platform::{Exit, Platform, install};
use core::fmt::Write;
use core::sync::atomic::{AtomicBool, Ordering};

/// Runs `main` on `platform` (installing it) and ends the unikernel: `Ok` exits with
/// [`Exit::Success`]; an error is written to the console as `error: ...` and exits with
/// [`Exit::Failure`], as a panic does (`panic: ...`).
pub fn run<E: core::fmt::Display>(
    platform: &'static dyn Platform,
    main: impl FnOnce() -> Result<(), E>,
) -> ! {
    install(platform);
    match main() {
        Ok(()) => platform.exit(Exit::Success),
        Err(error) => {
            let _ = write!(Console(platform), "error: {error}\r\n");
            platform.exit(Exit::Failure)
        }
    }
}

/// The platform's console, unbuffered.
struct Console(&'static dyn Platform);

impl Write for Console {
    fn write_str(&mut self, text: &str) -> core::fmt::Result {
        self.0.console_write(text.as_bytes());
        Ok(())
    }
}

/// Set once a panic began: a panic while reporting one only exits.
static PANICKING: AtomicBool = AtomicBool::new(false);

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    let Some(&platform) = crate::platform::PLATFORM.get() else {
        // Nothing to report to, nor a way out: stop here.
        loop {
            core::hint::spin_loop();
        }
    };
    if !PANICKING.swap(true, Ordering::SeqCst) {
        // Straight to the console: the panic may be the heap running out.
        let _ = write!(Console(platform), "panic: {info}\r\n");
    }
    platform.exit(Exit::Failure)
}
