//! From entry to exit: the serial line, interrupts, the start info, the clocks and the
//! heap, then the application's `main` (see [`crate::main!`]) on the shared core, which
//! turns its end into the machine's exit: status 0 when it returns `Ok`, 1 (with the
//! message on the console) when it fails or panics.

use crate::hypervisor::MACHINE;
use crate::start_info::StartInfo;
use crate::{boot, clock, interrupts, serial};
use alloc::string::String;
use core::sync::atomic::{AtomicU64, Ordering};
use mirage_unikernel::{Exit, Platform};

unsafe extern "Rust" {
    /// The application's `main`, defined by [`crate::main!`]: `None` when it succeeded,
    /// its error's text otherwise.
    fn __mirage_virtio_main(virtio: crate::Virtio) -> Option<String>;
}

/// The start info, kept from boot.
static START_INFO: spin::Once<StartInfo> = spin::Once::new();

/// Says what failed at boot (before the heap, perhaps) and exits with a failure.
fn fail(what: &str) -> ! {
    MACHINE.console_write(b"mirage-virtio: ");
    MACHINE.console_write(what.as_bytes());
    MACHINE.console_write(b"\r\n");
    MACHINE.exit(Exit::Failure)
}

pub(crate) fn start(start_info: usize) -> ! {
    serial::init();
    mirage_unikernel::install(&MACHINE);
    interrupts::init();
    // SAFETY: `ebx` at entry, where QEMU put the start info; memory is mapped one to one.
    let info = match unsafe { StartInfo::read(start_info, boot::kernel_end()) } {
        Ok(info) => START_INFO.call_once(|| info),
        Err(error) => fail(error),
    };
    clock::init(boot::first_tsc());
    let Some((start, end)) = info.ram else {
        fail("no RAM above the kernel in the memory map");
    };
    // SAFETY: RAM the memory map gives, above the kernel, mapped one to one, used by
    // nothing else (the start info was copied out of it).
    unsafe { mirage_unikernel::heap::init(start as *mut u8, end - start) };
    BOOT_NS.store(clock::monotonic_ns(), Ordering::Relaxed);
    let virtio = crate::Virtio { start_info: info };
    mirage_unikernel::run(&MACHINE, || {
        // SAFETY: defined by the application through `main!`, with this signature.
        match unsafe { __mirage_virtio_main(virtio) } {
            None => Ok(()),
            Some(error) => Err(error),
        }
    })
}

/// The ACPI root, for powering off.
pub(crate) fn rsdp() -> Option<usize> {
    START_INFO.get().and_then(|info| info.rsdp)
}

/// Nanoseconds from the first instruction to the application's `main`.
static BOOT_NS: AtomicU64 = AtomicU64::new(0);

/// How long the kernel took from its first instruction to the application's `main`
/// (long mode, the serial line, calibrating the TSC against the PIT, the heap): the
/// guest's own boot time.
pub fn boot_time() -> core::time::Duration {
    core::time::Duration::from_nanos(BOOT_NS.load(Ordering::Relaxed))
}
