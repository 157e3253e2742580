//! From entry to shutdown: sets up memory, shared-info and the console, then hands the
//! application's `main` (see [`crate::main!`]) to the shared core, which turns its end into
//! `SCHEDOP_shutdown`: poweroff when it returns `Ok`, crash (with the message on the
//! console) when it fails or panics.

use crate::console::RawPage;
use crate::hypervisor::PV;
use crate::start_info::StartInfo;
use crate::{memory, shared_info};
use alloc::string::String;
use core::sync::atomic::{AtomicU64, Ordering};
use mirage_unikernel::{Exit, Platform};

unsafe extern "Rust" {
    /// The application's `main`, defined by [`crate::main!`]: `None` when it succeeded,
    /// its error's text otherwise.
    fn __mirage_xen_pv_main(xen: crate::Xen) -> Option<String>;
}

/// Says what failed at boot (before the heap, perhaps) and crashes the domain.
fn fail(what: core::fmt::Arguments<'_>) -> ! {
    struct Console;
    impl core::fmt::Write for Console {
        fn write_str(&mut self, text: &str) -> core::fmt::Result {
            PV.console_write(text.as_bytes());
            Ok(())
        }
    }
    let _ = core::fmt::Write::write_fmt(&mut Console, format_args!("mirage-xen-pv: {what}\r\n"));
    PV.exit(Exit::Failure)
}

pub(crate) fn start(start_info: &'static StartInfo) -> ! {
    memory::init(start_info);
    PV.set_console(
        RawPage(memory::va_of_mfn(start_info.console_mfn)),
        start_info.console_evtchn,
    );
    mirage_unikernel::install(&PV);
    if let Err(rc) = shared_info::init(start_info.shared_info) {
        fail(format_args!("mapping shared_info failed: {rc}"));
    }
    if let Err(error) = memory::init_heap(start_info) {
        fail(format_args!("{error}"));
    }
    if let Err(rc) = crate::boot::guard_stack() {
        fail(format_args!("unmapping the stack guard failed: {rc}"));
    }
    let xen = crate::Xen::new(start_info);
    BOOT_NS.store(crate::boot::since_first_instruction(), Ordering::Relaxed);
    mirage_unikernel::run(&PV, || {
        // SAFETY: defined by the application through `main!`, with this signature.
        match unsafe { __mirage_xen_pv_main(xen) } {
            None => Ok(()),
            Some(error) => Err(error),
        }
    })
}

/// Nanoseconds from the first instruction to the application's `main`.
static BOOT_NS: AtomicU64 = AtomicU64::new(0);

/// How long the kernel took from its first instruction to the application's `main`
/// (mapping memory, shared-info, the console): the guest's own boot time.
pub fn boot_time() -> core::time::Duration {
    core::time::Duration::from_nanos(BOOT_NS.load(Ordering::Relaxed))
}
