//! Leaving QEMU. Success powers the machine off by ACPI (the register the FADT names), so
//! QEMU exits with status 0 and a manager such as libvirt sees a clean shutdown. A failure
//! status goes out through the `isa-debug-exit` device (port 0x501), and QEMU exits with
//! `status * 2 + 1`, which the run script turns back into `status` (QEMU's own errors are
//! 1, which no guest status gives). Where one way is missing the other is tried.

use crate::port::{outb, outw};

/// `isa-debug-exit`'s default port.
const DEBUG_EXIT: u16 = 0x501;
/// PM1 control: sleep type 0 (QEMU's `_S5`, on both `pc` and `q35`) with SLP_EN.
const POWER_OFF: u16 = 1 << 13;

/// Ends the machine with `status`; never returns.
pub(crate) fn exit(status: u8, rsdp: Option<usize>) -> ! {
    // SAFETY: the RSDP QEMU gave; memory is mapped one to one.
    let acpi = rsdp.and_then(|rsdp| unsafe { pm1a_control(rsdp) });
    if status != 0 {
        outb(DEBUG_EXIT, status);
    }
    if let Some(port) = acpi {
        outw(port, POWER_OFF);
        // QEMU acts on the request from its main loop, after this CPU ran on a while:
        // give it a second before falling back (which would end QEMU with status 1).
        let until = crate::clock::monotonic_ns().saturating_add(1_000_000_000);
        while crate::clock::monotonic_ns() < until {
            core::hint::spin_loop();
        }
    }
    outb(DEBUG_EXIT, status);
    loop {
        // SAFETY: halting with interrupts off stops the CPU for good.
        unsafe { core::arch::asm!("cli", "hlt", options(nomem, nostack)) };
    }
}

/// The PM1a control port from the FADT, found through the RSDP at `rsdp`.
///
/// # Safety
///
/// `rsdp` and the tables it leads to are mapped (physical = virtual).
unsafe fn pm1a_control(rsdp: usize) -> Option<u16> {
    // SAFETY (each read): within the tables, as the caller vouches.
    let read = |at: usize, len: usize| unsafe { core::slice::from_raw_parts(at as *const u8, len) };
    let u32_at = |at: usize| u32::from_le_bytes(read(at, 4).try_into().unwrap_or([0; 4]));
    if read(rsdp, 8) != b"RSD PTR " {
        return None;
    }
    let rsdt = u32_at(rsdp + 16) as usize;
    if rsdt == 0 || read(rsdt, 4) != b"RSDT" {
        return None;
    }
    let length = u32_at(rsdt + 4) as usize;
    let entries = length.saturating_sub(36) / 4;
    (0..entries.min(64))
        .map(|i| u32_at(rsdt + 36 + 4 * i) as usize)
        .find(|&table| table != 0 && read(table, 4) == b"FACP")
        .map(|fadt| u32_at(fadt + 64) as u16)
        .filter(|&port| port != 0)
}
