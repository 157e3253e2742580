#![doc = include_str!("../README.md")]
#![no_std]
#![warn(missing_docs)]

extern crate alloc;

pub mod block;
mod boot;
pub mod clock;
pub mod console;
pub mod dma;
mod exit;
mod hypervisor;
pub mod interrupts;
mod kernel;
pub mod net;
pub mod pci;
pub mod port;
mod serial;
mod start_info;

pub use block::VirtioBlock;
pub use console::SerialConsole;
pub use kernel::boot_time;
pub use mirage_unikernel::block_on;
use mirage_unikernel::{KernelClock, KernelMonotonicClock, KernelTime};
pub use net::VirtioNet;
use start_info::StartInfo;

/// The running machine, handed to the application's `main`: its devices and what QEMU told
/// it at boot.
#[derive(Clone, Copy)]
pub struct Virtio {
    start_info: &'static StartInfo,
}

impl core::fmt::Debug for Virtio {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Virtio")
            .field("command_line", &self.command_line())
            .finish()
    }
}

impl Virtio {
    /// The serial console (COM1).
    pub fn console(&self) -> SerialConsole {
        SerialConsole::new()
    }

    /// Sleeps (V1's `TIME`).
    pub fn time(&self) -> KernelTime {
        KernelTime
    }

    /// Mirage 4's monotonic clock (`MCLOCK`): the calibrated TSC, never going back.
    pub fn monotonic_clock(&self) -> KernelMonotonicClock {
        KernelMonotonicClock
    }

    /// The wall clock (the RTC at boot, then the TSC).
    pub fn clock(&self) -> KernelClock {
        KernelClock
    }

    /// Disk `index`: the `index`th virtio-blk device (QEMU's `-device virtio-blk-pci` in
    /// order); the error says what is missing.
    pub fn disk(&self, index: usize) -> Result<VirtioBlock, mirage_types::BlockError> {
        VirtioBlock::open(index)
    }

    /// Network interface `index`: the `index`th virtio-net device (QEMU's `-device
    /// virtio-net-pci` in order); the error says what is missing.
    pub fn net(&self, index: usize) -> Result<VirtioNet, mirage_types::NetError> {
        VirtioNet::open(index)
    }

    /// Random numbers from RDRAND (QEMU's `-cpu max` has it, under TCG too), if the CPU
    /// has it.
    pub fn random(
        &self,
    ) -> Result<mirage_unikernel::random::Rdrand, mirage_unikernel::random::NoRdrand> {
        mirage_unikernel::random::Rdrand::new()
    }

    /// The command line (QEMU's `-append`).
    pub fn command_line(&self) -> &'static str {
        self.start_info.command_line()
    }
}

/// Names the application's entry: `main!(run)` with `fn run(virtio: Virtio) -> Result<(),
/// E>` (`E: Display`). `Ok` exits with status 0; an error is written to the console and
/// the machine exits with status 1, as after a panic.
#[macro_export]
macro_rules! main {
    ($main:path) => {
        #[unsafe(no_mangle)]
        fn __mirage_virtio_main(virtio: $crate::Virtio) -> Option<::alloc::string::String> {
            match $main(virtio) {
                Ok(()) => None,
                Err(error) => Some(::alloc::format!("{error}")),
            }
        }
    };
}

/// Ends the machine at once with exit status `status` (what the run script, or QEMU as
/// `status * 2 + 1`, reports), without returning from `main`.
pub fn exit(status: u8) -> ! {
    exit::exit(status, kernel::rsdp())
}
