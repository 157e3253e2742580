//! From entry to shutdown: sets up memory, shared-info and the console, runs the
//! application's `main` (see [`crate::main!`]), and turns its end into `SCHEDOP_shutdown`:
//! poweroff when it returns `Ok`, crash (with the message on the console) when it fails or
//! panics.

use crate::console::{PvConsole, RawPage, drain};
use crate::executor::Global;
use crate::hypercall::{SCHED_OP, hypercall2, sched};
use crate::start_info::StartInfo;
use crate::{memory, shared_info};
use alloc::string::String;
use core::fmt::Write;
use core::sync::atomic::{AtomicU64, Ordering};

unsafe extern "Rust" {
    /// The application's `main`, defined by [`crate::main!`]: `None` when it succeeded,
    /// its error's text otherwise.
    fn __mirage_xen_pv_main(xen: crate::Xen) -> Option<String>;
}

/// The console, once known, for panics.
static CONSOLE: Global<Option<(RawPage, u32)>> = Global::new(None);

/// `SCHEDOP_shutdown` reasons.
#[derive(Debug, Clone, Copy)]
#[repr(u32)]
pub enum Shutdown {
    /// The domain is done.
    Poweroff = 0,
    /// The domain failed.
    Crash = 3,
}

/// Ends the domain.
pub fn shutdown(reason: Shutdown) -> ! {
    let reason = reason as u32;
    loop {
        // SAFETY: SCHEDOP_shutdown reads `{ u32 reason }`.
        unsafe {
            hypercall2(SCHED_OP, sched::SHUTDOWN, &raw const reason as u64);
        }
    }
}

/// Writes to the console without the executor (panics, the end of `main`).
struct Emergency((RawPage, u32));

impl Write for Emergency {
    fn write_str(&mut self, text: &str) -> core::fmt::Result {
        let (page, port) = self.0;
        PvConsole::write_now(page, port, text.as_bytes());
        Ok(())
    }
}

pub(crate) fn start(start_info: &'static StartInfo) -> ! {
    memory::init(start_info);
    let console = (
        RawPage(memory::va_of_mfn(start_info.console_mfn)),
        start_info.console_evtchn,
    );
    CONSOLE.with(|c| *c = Some(console));
    if let Err(rc) = shared_info::init(start_info.shared_info) {
        let _ = write!(
            Emergency(console),
            "mirage-xen-pv: mapping shared_info failed: {rc}\r\n"
        );
        shutdown(Shutdown::Crash);
    }
    if let Err(error) = memory::init_heap(start_info) {
        let _ = write!(Emergency(console), "mirage-xen-pv: {error}\r\n");
        shutdown(Shutdown::Crash);
    }
    if let Err(rc) = crate::boot::guard_stack() {
        let _ = write!(
            Emergency(console),
            "mirage-xen-pv: unmapping the stack guard failed: {rc}\r\n"
        );
        shutdown(Shutdown::Crash);
    }
    let xen = crate::Xen::new(start_info);
    BOOT_NS.store(crate::boot::since_first_instruction(), Ordering::Relaxed);
    // SAFETY: defined by the application through `main!`, with this signature.
    let outcome = unsafe { __mirage_xen_pv_main(xen) };
    if let Some(error) = &outcome {
        let _ = write!(Emergency(console), "error: {error}\r\n");
    }
    // xenconsoled reads the ring after the domain writes it: without waiting, the last lines
    // can be lost with the domain.
    drain(console.0, console.1, DRAIN_NS);
    shutdown(if outcome.is_none() {
        Shutdown::Poweroff
    } else {
        Shutdown::Crash
    })
}

/// Nanoseconds from the first instruction to the application's `main`.
static BOOT_NS: AtomicU64 = AtomicU64::new(0);

/// How long the kernel took from its first instruction to the application's `main`
/// (mapping memory, shared-info, the console): the guest's own boot time.
pub fn boot_time() -> core::time::Duration {
    core::time::Duration::from_nanos(BOOT_NS.load(Ordering::Relaxed))
}

/// How long the end waits for xenconsoled to read the console, at most.
const DRAIN_NS: u64 = 2_000_000_000;

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    if let Some(console) = CONSOLE.0.try_borrow().ok().and_then(|c| *c) {
        let _ = write!(Emergency(console), "panic: {info}\r\n");
        drain(console.0, console.1, DRAIN_NS);
    }
    shutdown(Shutdown::Crash)
}
