//! The domain's own console: the ring page and port in start_info, which xenconsoled in
//! dom0 serves (`xl console`, `/var/log/xen/console/guest-NAME.log`). No XenBus handshake:
//! Xen set it up before boot.

use crate::events::PvPort;
use crate::hypercall::yield_now;
use crate::memory::PAGE_SIZE;
use alloc::boxed::Box;
use alloc::vec::Vec;
use async_trait::async_trait;
use bytes::Bytes;
use core::cell::Cell;
use mirage_types::{Console, ConsoleError, Device, Flow, Read};
use mirage_xen::abi::console::{INPUT, OUTPUT};
use mirage_xen::platform::Port;
use mirage_xen::ring::SharedMemory;

/// A page of this kernel's memory, by address.
#[derive(Debug, Clone, Copy)]
pub struct RawPage(pub(crate) usize);

// SAFETY: a mapped, page-sized region that lives as long as the kernel (start_info's pages).
unsafe impl SharedMemory for RawPage {
    fn as_ptr(&self) -> *mut u8 {
        self.0 as *mut u8
    }
    fn len(&self) -> usize {
        PAGE_SIZE
    }
}

/// V1's `CONSOLE` on the domain's console ring.
#[derive(Debug)]
pub struct PvConsole {
    page: RawPage,
    port: PvPort,
    closed: Cell<bool>,
    disconnected: Cell<bool>,
}

impl PvConsole {
    pub(crate) fn new(page: RawPage, port: u32) -> Self {
        PvConsole {
            page,
            port: PvPort::preset(port),
            closed: Cell::new(false),
            disconnected: Cell::new(false),
        }
    }

    fn check(&self) -> Result<(), ConsoleError> {
        if self.disconnected.get() {
            Err(ConsoleError::Disconnected)
        } else {
            Ok(())
        }
    }

    fn broken(error: mirage_xen::ring::RingError) -> ConsoleError {
        ConsoleError::InvalidConsole(alloc::format!("xenconsoled broke the ring: {error}"))
    }

    /// Writes all of `data`, waiting for xenconsoled to make room.
    async fn write_all(&self, mut data: &[u8]) -> Result<(), ConsoleError> {
        self.check()?;
        if self.closed.get() {
            return Err(ConsoleError::Closed);
        }
        while !data.is_empty() {
            let written = OUTPUT.write(&self.page, data).map_err(Self::broken)?;
            self.port.notify();
            data = &data[written..];
            if written == 0 {
                self.port.wait().await;
            }
        }
        Ok(())
    }

    /// Writes `data` without the executor (a panic): spins, yielding the CPU, while the
    /// ring is full.
    pub(crate) fn write_now(page: RawPage, port: u32, mut data: &[u8]) {
        let mut attempts = 0;
        while !data.is_empty() && attempts < 10_000 {
            let Ok(written) = OUTPUT.write(&page, data) else {
                return;
            };
            crate::hypercall::notify(port);
            data = &data[written..];
            if written == 0 {
                attempts += 1;
                yield_now();
            }
        }
    }
}

/// Waits until xenconsoled has read everything written to the console ring, or `limit_ns`
/// have passed: the domain's last lines would be lost if it shut down before.
pub(crate) fn drain(page: RawPage, port: u32, limit_ns: u64) {
    if !crate::shared_info::mapped() {
        // No clock to bound the wait: do not wait.
        return;
    }
    let deadline = crate::shared_info::system_time_ns().saturating_add(limit_ns);
    while OUTPUT.unread(&page).is_ok_and(|unread| unread > 0)
        && crate::shared_info::system_time_ns() < deadline
    {
        crate::hypercall::notify(port);
        crate::executor::poll_one(
            port,
            deadline.min(crate::shared_info::system_time_ns() + 20_000_000),
        );
        crate::shared_info::take_pending(port);
    }
}

/// `line` with the console's line ending (`\r\n`, as a terminal shows it).
fn with_newline(line: &str) -> Vec<u8> {
    let mut text = Vec::with_capacity(line.len() + 2);
    text.extend_from_slice(line.as_bytes());
    text.extend_from_slice(b"\r\n");
    text
}

#[async_trait(?Send)]
impl Device for PvConsole {
    async fn disconnect(&self) {
        self.disconnected.set(true);
    }
}

#[async_trait(?Send)]
impl Flow for PvConsole {
    type Error = ConsoleError;

    /// The next bytes typed on `xl console`.
    async fn read(&self) -> Result<Read, ConsoleError> {
        loop {
            self.check()?;
            let mut input = Vec::new();
            if INPUT.read(&self.page, &mut input).map_err(Self::broken)? > 0 {
                self.port.notify();
                return Ok(Read::Data(Bytes::from(input)));
            }
            self.port.wait().await;
        }
    }

    async fn write(&self, buf: &[u8]) -> Result<(), ConsoleError> {
        self.write_all(buf).await
    }

    async fn close(&self) -> Result<(), ConsoleError> {
        self.closed.set(true);
        Ok(())
    }
}

#[async_trait(?Send)]
impl Console for PvConsole {
    /// Writes what fits in the ring now (V1's best-effort `log`).
    fn log(&self, line: &str) {
        if self.check().is_ok() {
            let _ = OUTPUT.write(&self.page, &with_newline(line));
            self.port.notify();
        }
    }

    async fn log_s(&self, line: &str) -> Result<(), ConsoleError> {
        self.write_all(&with_newline(line)).await
    }
}
