#![doc = include_str!("../README.md")]
#![no_std]
#![warn(missing_docs)]

extern crate alloc;

mod boot;
pub mod console;
pub mod events;
pub mod executor;
pub mod grants;
pub mod hypercall;
mod hypervisor;
mod kernel;
pub mod memory;
pub mod page_tables;
pub mod platform;
pub mod shared_info;
pub mod start_info;
pub mod time;

pub use console::PvConsole;
pub use executor::block_on;
pub use hypervisor::{Shutdown, shutdown};
pub use kernel::boot_time;
pub use mirage_unikernel::random::NoRdrand;
/// V1's `RANDOM` from RDRAND (the shared core's).
pub use mirage_unikernel::random::Rdrand as PvRandom;
pub use platform::PvXen;
pub use time::{PvClock, PvMonotonicClock, PvTime};

use start_info::StartInfo;

/// The running guest, handed to the application's `main`: its devices and what Xen told it
/// at boot.
#[derive(Debug, Clone, Copy)]
pub struct Xen {
    start_info: &'static StartInfo,
}

impl Xen {
    fn new(start_info: &'static StartInfo) -> Self {
        Xen { start_info }
    }

    /// The domain's console (what `xl console` shows).
    pub fn console(&self) -> PvConsole {
        PvConsole::new(
            console::RawPage(memory::va_of_mfn(self.start_info.console_mfn)),
            self.start_info.console_evtchn,
        )
    }

    /// Grants, event channels and the xenstore: the platform `mirage-xen`'s devices
    /// (`Blkfront`, `Netfront`, `XenConsole`) run on. One store connection, shared.
    pub fn platform(&self) -> PvXen {
        static PLATFORM: executor::Global<Option<PvXen>> = executor::Global::new(None);
        PLATFORM.with(|platform| {
            platform
                .get_or_insert_with(|| PvXen::new(self.start_info))
                .clone()
        })
    }

    /// The domain's disk `index` (0 is `xvda`, in the `.xl`'s order) through our Blkfront;
    /// the error names the disk.
    pub async fn disk(
        &self,
        index: usize,
    ) -> Result<mirage_xen::front::Blkfront<PvXen>, alloc::string::String> {
        use mirage_xen::xl::{vdev_name, vdev_number};
        let platform = self.platform();
        let domid = platform
            .domid()
            .await
            .map_err(|error| alloc::format!("this domain's id: {error}"))?;
        mirage_xen::front::Blkfront::connect(platform, domid, vdev_number(index))
            .await
            .map_err(|error| alloc::format!("{}: {error}", vdev_name(index)))
    }

    /// The domain's network interface `index` (`vif` N, in the `.xl`'s order) through our
    /// Netfront; the error names the interface.
    pub async fn vif(
        &self,
        index: u32,
    ) -> Result<mirage_xen::front::Netfront<PvXen>, alloc::string::String> {
        let platform = self.platform();
        let domid = platform
            .domid()
            .await
            .map_err(|error| alloc::format!("this domain's id: {error}"))?;
        mirage_xen::front::Netfront::connect(platform, domid, index)
            .await
            .map_err(|error| alloc::format!("vif {index}: {error}"))
    }

    /// Sleeps (V1's `TIME`).
    pub fn time(&self) -> PvTime {
        PvTime
    }

    /// Mirage 4's monotonic clock (`MCLOCK`): Xen's system time, never going back.
    pub fn monotonic_clock(&self) -> PvMonotonicClock {
        PvMonotonicClock
    }

    /// The wall clock.
    pub fn clock(&self) -> PvClock {
        PvClock
    }

    /// Random bytes from RDRAND, if the CPU has it.
    pub fn random(&self) -> Result<PvRandom, NoRdrand> {
        PvRandom::new()
    }

    /// The command line (`extra =` in the `.xl`).
    pub fn command_line(&self) -> &'static str {
        self.start_info.command_line()
    }

    /// What Xen handed the kernel at boot.
    pub fn start_info(&self) -> &'static StartInfo {
        self.start_info
    }
}

/// Names the application's entry: `main!(run)` with `fn run(xen: Xen) -> Result<(), E>`
/// (`E: Display`). `Ok` powers the domain off; an error is written to the console and the
/// domain crashes, as after a panic.
#[macro_export]
macro_rules! main {
    ($main:path) => {
        #[unsafe(no_mangle)]
        fn __mirage_xen_pv_main(xen: $crate::Xen) -> Option<::alloc::string::String> {
            match $main(xen) {
                Ok(()) => None,
                Err(error) => Some(::alloc::format!("{error}")),
            }
        }
    };
}
