//! What the shared core (`mirage-unikernel`) asks of the machine: the TSC's clocks, COM1,
//! halting until an interrupt line or a deadline, and the way out. Event numbers are the
//! PIC's interrupt lines.

use crate::{clock, exit, interrupts, serial};
use mirage_unikernel::{Exit, Platform};

/// QEMU's x86-64 PC as the shared core's platform.
pub(crate) struct Machine;

/// The one instance, installed at boot.
pub(crate) static MACHINE: Machine = Machine;

/// The longest a halt lasts (the PIT's one-shot holds at most 55 ms).
const LONGEST_HALT_NS: u64 = 50_000_000;

impl Platform for Machine {
    fn monotonic_ns(&self) -> u64 {
        clock::monotonic_ns()
    }

    fn wall_ns(&self) -> u64 {
        clock::wall_ns()
    }

    fn console_write(&self, bytes: &[u8]) {
        serial::write(bytes);
    }

    fn is_ready(&self, line: u32) -> bool {
        u8::try_from(line).is_ok_and(|line| line < 16 && interrupts::pending(line))
    }

    fn wait(&self, lines: &[u32], deadline: Option<u64>) {
        if lines.iter().any(|&line| self.is_ready(line)) {
            return;
        }
        let now = clock::monotonic_ns();
        let ns = deadline.map_or(LONGEST_HALT_NS, |d| d.saturating_sub(now));
        if ns > 0 {
            interrupts::halt(ns.min(LONGEST_HALT_NS));
        }
    }

    fn exit(&self, how: Exit) -> ! {
        let status = match how {
            Exit::Success => 0,
            Exit::Failure => 1,
        };
        exit::exit(status, crate::kernel::rsdp())
    }
}
