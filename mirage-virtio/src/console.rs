//! V1's `CONSOLE` on COM1: lines out through the UART, bytes typed in through its receive
//! interrupt.

use crate::{interrupts, serial};
use alloc::boxed::Box;
use alloc::vec::Vec;
use async_trait::async_trait;
use bytes::Bytes;
use core::cell::Cell;
use core::future::poll_fn;
use core::task::Poll;
use mirage_types::{Console, ConsoleError, Device, Flow, Read};
use mirage_unikernel::executor::wait_event;

/// V1's `CONSOLE` on the serial line (what QEMU's `-serial` or libvirt's `<serial>` shows).
#[derive(Debug, Default)]
pub struct SerialConsole {
    closed: Cell<bool>,
    disconnected: Cell<bool>,
}

impl SerialConsole {
    pub(crate) fn new() -> Self {
        interrupts::unmask(serial::IRQ);
        SerialConsole::default()
    }

    fn writable(&self) -> Result<(), ConsoleError> {
        if self.disconnected.get() {
            Err(ConsoleError::Disconnected)
        } else if self.closed.get() {
            Err(ConsoleError::Closed)
        } else {
            Ok(())
        }
    }
}

/// Writes `line` with the console's line ending (`\r\n`, as a terminal shows it). Nothing
/// else writes between the two: one CPU, and the UART is written synchronously.
fn write_line(line: &str) {
    serial::write(line.as_bytes());
    serial::write(b"\r\n");
}

#[async_trait(?Send)]
impl Device for SerialConsole {
    async fn disconnect(&self) {
        self.disconnected.set(true);
    }
}

#[async_trait(?Send)]
impl Flow for SerialConsole {
    type Error = ConsoleError;

    /// The next bytes typed on the serial line.
    async fn read(&self) -> Result<Read, ConsoleError> {
        poll_fn(|cx| {
            if self.disconnected.get() {
                return Poll::Ready(Err(ConsoleError::Disconnected));
            }
            interrupts::take(serial::IRQ);
            let mut input = Vec::new();
            serial::read_available(&mut input);
            if input.is_empty() {
                wait_event(u32::from(serial::IRQ), cx.waker());
                Poll::Pending
            } else {
                Poll::Ready(Ok(Read::Data(Bytes::from(input))))
            }
        })
        .await
    }

    async fn write(&self, buf: &[u8]) -> Result<(), ConsoleError> {
        self.writable()?;
        serial::write(buf);
        Ok(())
    }

    async fn close(&self) -> Result<(), ConsoleError> {
        self.closed.set(true);
        Ok(())
    }
}

#[async_trait(?Send)]
impl Console for SerialConsole {
    fn log(&self, line: &str) {
        if self.writable().is_ok() {
            write_line(line);
        }
    }

    async fn log_s(&self, line: &str) -> Result<(), ConsoleError> {
        self.writable()?;
        write_line(line);
        Ok(())
    }
}
