//! `XenConsole`: a `Console` over a Xen console ring (a secondary console,
//! `device/console/<n>`, connected through XenBus).

#[allow(unused_imports)]
use crate::prelude::*;

use super::link::Link;
use crate::abi::DomId;
use crate::abi::console::{INPUT, OUTPUT};
use crate::abi::xenbus::XenbusState;
use crate::platform::{Grant, Platform, Port};
use crate::xenbus::{DeviceKind, DevicePaths, write_state};
use alloc::rc::Rc;
use async_trait::async_trait;
use bytes::Bytes;
use core::cell::Cell;
use core::future::poll_fn;
use core::task::Poll;
use core::time::Duration;
use mirage_types::{Console, ConsoleError, Device, Flow, Read, Time};

/// A Xen console, from the guest's side: V1's `CONSOLE` over the console ring.
pub struct XenConsole<P: Platform> {
    /// The event channel (a reader and a writer may wait on it at once), the backend's
    /// liveness and the time limit.
    link: Link<P>,
    page: P::Grant,
    closed: Cell<bool>,
    disconnected: Cell<bool>,
}

fn invalid(error: impl core::fmt::Display) -> ConsoleError {
    ConsoleError::InvalidConsole(error.to_string())
}

impl<P: Platform> XenConsole<P> {
    /// Connects console `devid` of this domain (`frontend_id`): waits for its backend to be
    /// ready (InitWait), shares a zeroed ring page and an event channel with it, and waits
    /// until the backend is connected.
    pub async fn connect(
        platform: P,
        frontend_id: DomId,
        devid: u32,
    ) -> Result<Self, ConsoleError> {
        let paths = DevicePaths::discover(&platform, DeviceKind::Console, frontend_id, devid)
            .await
            .map_err(invalid)?;
        super::link::await_backend(&platform, &paths)
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
        write_state(&platform, front, XenbusState::Initialised)
            .await
            .map_err(invalid)?;
        crate::xenbus::wait_for_state(&platform, &paths.backend, |s| s == XenbusState::Connected)
            .await
            .map_err(invalid)?;
        write_state(&platform, front, XenbusState::Connected)
            .await
            .map_err(invalid)?;
        Ok(XenConsole {
            link: Link::new(Rc::new(platform), paths, port),
            page,
            closed: Cell::new(false),
            disconnected: Cell::new(false),
        })
    }

    /// Gives up a write that waits longer than `timeout` (by `time`'s clock) for the backend
    /// to make room, with [`ConsoleError::Disconnected`] (the console is given up); a
    /// `disconnect` waits no longer than that for the backend either.
    pub fn with_timeout(mut self, time: impl Time + 'static, timeout: Duration) -> Self {
        self.link.set_limit(Some((Rc::new(time), timeout)));
        self
    }

    /// Where the console is in the store.
    pub fn paths(&self) -> &DevicePaths {
        &self.link.paths
    }

    fn check(&self) -> Result<(), ConsoleError> {
        if self.disconnected.get() || self.link.backend_gone() {
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
        let written = poll_fn(|cx| {
            loop {
                if let Err(error) = self.check() {
                    self.link.leave(cx);
                    return Poll::Ready(Err(error));
                }
                let written = match OUTPUT.write(&self.page, data) {
                    Ok(written) => written,
                    Err(error) => {
                        self.link.leave(cx);
                        return Poll::Ready(Err(Self::ring_error(error)));
                    }
                };
                self.link.notify();
                data = &data[written..];
                if data.is_empty() {
                    self.link.leave(cx);
                    return Poll::Ready(Ok(()));
                }
                if written == 0 && self.link.poll(cx).is_pending() {
                    return Poll::Pending;
                }
            }
        });
        match self.link.within(written).await {
            Ok(result) => result,
            Err(_) => {
                // What the backend will do with the ring cannot be known: give it up.
                self.disconnected.set(true);
                Err(ConsoleError::Disconnected)
            }
        }
    }
}

#[async_trait(?Send)]
impl<P: Platform> Device for XenConsole<P> {
    /// Closes the console: says Closing, waits for the backend to unmap the page (it says
    /// Closed), then says Closed; the page's grant ends when the console is dropped.
    async fn disconnect(&self) {
        self.disconnected.set(true);
        self.link.wake_all();
        self.link.close().await;
    }
}

#[async_trait(?Send)]
impl<P: Platform> Flow for XenConsole<P> {
    type Error = ConsoleError;

    /// The next input bytes the backend sent.
    async fn read(&self) -> Result<Read, ConsoleError> {
        poll_fn(|cx| {
            loop {
                let mut input = Vec::new();
                let outcome = self
                    .check()
                    .and_then(|()| INPUT.read(&self.page, &mut input).map_err(Self::ring_error));
                match outcome {
                    Ok(0) => {
                        if self.link.poll(cx).is_pending() {
                            return Poll::Pending;
                        }
                    }
                    outcome => {
                        self.link.leave(cx);
                        return Poll::Ready(outcome.map(|_| {
                            self.link.notify();
                            Read::Data(Bytes::from(input))
                        }));
                    }
                }
            }
        })
        .await
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
            self.link.notify();
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
            .field("frontend", &self.link.paths.frontend)
            .finish()
    }
}
