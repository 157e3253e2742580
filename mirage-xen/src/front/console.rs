//! `XenConsole`: a `Console` over a Xen console ring (a secondary console,
//! `device/console/<n>`, connected through XenBus).

#[allow(unused_imports)]
use crate::prelude::*;

use crate::abi::DomId;
use crate::abi::console::{INPUT, OUTPUT};
use crate::abi::xenbus::XenbusState;
use crate::platform::{Grant, Platform, Port};
use crate::xenbus::{DeviceKind, DevicePaths, write_state};
use async_trait::async_trait;
use bytes::Bytes;
use core::cell::Cell;
use mirage_types::{Console, ConsoleError, Device, Flow, Read};

/// A Xen console, from the guest's side: V1's `CONSOLE` over the console ring.
pub struct XenConsole<P: Platform> {
    platform: P,
    paths: DevicePaths,
    page: P::Grant,
    port: P::Port,
    closed: Cell<bool>,
    disconnected: Cell<bool>,
}

fn invalid(error: impl core::fmt::Display) -> ConsoleError {
    ConsoleError::InvalidConsole(error.to_string())
}

impl<P: Platform> XenConsole<P> {
    /// Connects console `devid` of this domain (`frontend_id`): shares a zeroed ring page and
    /// an event channel with its backend, and says it is connected.
    pub async fn connect(
        platform: P,
        frontend_id: DomId,
        devid: u32,
    ) -> Result<Self, ConsoleError> {
        let paths = DevicePaths::discover(&platform, DeviceKind::Console, frontend_id, devid)
            .await
            .map_err(invalid)?;
        let page = platform.share(paths.backend_id, false).map_err(invalid)?;
        let port = platform.alloc_unbound(paths.backend_id).map_err(invalid)?;
        let front = &paths.frontend;
        let write = |node: &'static str, value: String| {
            let platform = &platform;
            let path = format!("{front}/{node}");
            async move { platform.write(0, &path, &value).await }
        };
        write("ring-ref", page.gref().to_string())
            .await
            .map_err(invalid)?;
        write("port", port.number().to_string())
            .await
            .map_err(invalid)?;
        write_state(&platform, front, XenbusState::Connected)
            .await
            .map_err(invalid)?;
        Ok(XenConsole {
            platform,
            paths,
            page,
            port,
            closed: Cell::new(false),
            disconnected: Cell::new(false),
        })
    }

    fn check(&self) -> Result<(), ConsoleError> {
        if self.disconnected.get() {
            Err(ConsoleError::Disconnected)
        } else {
            Ok(())
        }
    }

    fn ring_error(error: crate::ring::RingError) -> ConsoleError {
        ConsoleError::InvalidConsole(format!("the console backend broke the ring: {error}"))
    }

    /// Writes all of `data`, waiting for the backend to make room.
    async fn write_all(&self, mut data: &[u8]) -> Result<(), ConsoleError> {
        self.check()?;
        if self.closed.get() {
            return Err(ConsoleError::Closed);
        }
        while !data.is_empty() {
            let written = OUTPUT.write(&self.page, data).map_err(Self::ring_error)?;
            self.port.notify();
            data = &data[written..];
            if !data.is_empty() {
                self.port.wait().await;
                self.check()?;
            }
        }
        Ok(())
    }
}

#[async_trait(?Send)]
impl<P: Platform> Device for XenConsole<P> {
    /// Closes the console: says Closing, waits for the backend to unmap the page (it says
    /// Closed), then says Closed; the page's grant ends when the console is dropped.
    async fn disconnect(&self) {
        self.disconnected.set(true);
        let front = &self.paths.frontend;
        let _ = write_state(&self.platform, front, XenbusState::Closing).await;
        let _ = crate::xenbus::wait_until_closed(&self.platform, &self.paths.backend).await;
        let _ = write_state(&self.platform, front, XenbusState::Closed).await;
    }
}

#[async_trait(?Send)]
impl<P: Platform> Flow for XenConsole<P> {
    type Error = ConsoleError;

    /// The next input bytes the backend sent.
    async fn read(&self) -> Result<Read, ConsoleError> {
        loop {
            self.check()?;
            let mut input = Vec::new();
            if INPUT
                .read(&self.page, &mut input)
                .map_err(Self::ring_error)?
                > 0
            {
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
impl<P: Platform> Console for XenConsole<P> {
    /// Writes what fits in the ring now, without waiting (the rest of a line that does not
    /// fit is lost, as V1's best-effort `log` allows).
    fn log(&self, line: &str) {
        if self.check().is_ok() {
            let mut text = line.as_bytes().to_vec();
            text.push(b'\n');
            let _ = OUTPUT.write(&self.page, &text);
            self.port.notify();
        }
    }

    async fn log_s(&self, line: &str) -> Result<(), ConsoleError> {
        let mut text = line.as_bytes().to_vec();
        text.push(b'\n');
        self.write_all(&text).await
    }
}

impl<P: Platform> core::fmt::Debug for XenConsole<P> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("XenConsole")
            .field("frontend", &self.paths.frontend)
            .finish()
    }
}
