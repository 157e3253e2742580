//! What the shared core (`mirage-unikernel`) asks of Xen: the clocks from shared-info, the
//! console ring, `SCHEDOP_poll` on event channels until a deadline, and `SCHEDOP_shutdown`.

use crate::console::{PvConsole, RawPage, drain};
use crate::executor::{Global, sched_poll};
use crate::hypercall::{SCHED_OP, hypercall2, sched};
use crate::shared_info;
use mirage_unikernel::{Exit, Platform};

/// The console, once known (for panics and the last words).
static CONSOLE: Global<Option<(RawPage, u32)>> = Global::new(None);

/// How long the end waits for xenconsoled to read the console, at most.
const DRAIN_NS: u64 = 2_000_000_000;

/// Xen PV as the shared core's platform; event numbers are event-channel ports.
pub(crate) struct PvPlatform;

/// The one instance, installed at boot.
pub(crate) static PV: PvPlatform = PvPlatform;

impl PvPlatform {
    /// Tells the platform where the console is, first thing at boot.
    pub(crate) fn set_console(&self, page: RawPage, port: u32) {
        CONSOLE.with(|console| *console = Some((page, port)));
    }

    fn console(&self) -> Option<(RawPage, u32)> {
        CONSOLE.0.try_borrow().ok().and_then(|console| *console)
    }
}

impl Platform for PvPlatform {
    fn monotonic_ns(&self) -> u64 {
        shared_info::system_time_ns()
    }

    fn wall_ns(&self) -> u64 {
        let (sec, nsec) = shared_info::wall_clock_base();
        (sec * 1_000_000_000 + u64::from(nsec)).saturating_add(shared_info::system_time_ns())
    }

    fn console_write(&self, bytes: &[u8]) {
        if let Some((page, port)) = self.console() {
            PvConsole::write_now(page, port, bytes);
        }
    }

    fn is_ready(&self, port: u32) -> bool {
        shared_info::is_pending(port)
    }

    fn wait(&self, ports: &[u32], deadline: Option<u64>) {
        // A deadline already past returns at once; 0 is none.
        sched_poll(ports, deadline.map_or(0, |d| d.max(1)));
    }

    fn exit(&self, how: Exit) -> ! {
        // xenconsoled reads the ring after the domain writes it: without waiting, the last
        // lines can be lost with the domain.
        if let Some((page, port)) = self.console() {
            drain(page, port, DRAIN_NS);
        }
        shutdown(match how {
            Exit::Success => Shutdown::Poweroff,
            Exit::Failure => Shutdown::Crash,
        })
    }
}

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
