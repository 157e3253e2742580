//! `Netfront`: a `Network` over a Xen network backend.
//!
//! Two rings (TX and RX) and one event channel. Every RX slot has a page of its own, granted
//! once and posted again as soon as its frame is taken; frames to send are copied into pages
//! from a granted pool, one slot each. Frames are whole Ethernet frames of at most the MTU
//! plus the header (multi-fragment frames from the backend are joined).

#[allow(unused_imports)]
use crate::prelude::*;

use super::link::{Link, await_backend};
use crate::abi::DomId;
use crate::abi::netif::*;
use crate::abi::xenbus::XenbusState;
use crate::platform::{Grant, Platform, Port, XenError};
use crate::ring::{FrontRing, SharedMemory};
use crate::xenbus::{DeviceKind, DevicePaths, wait_for_state, write_state};
use alloc::rc::Rc;
use async_trait::async_trait;
use bytes::Bytes;
use core::cell::{Cell, RefCell};
use core::future::poll_fn;
use core::task::Poll;
use core::time::Duration;
use mirage_types::{
    Device, ETHERNET_HEADER_LEN, FrameHandler, MacAddr, NetError, Network, Stats, StatsCounter,
    Time,
};

/// The MTU the frontend offers (no scatter-gather: one page per frame).
const MTU: usize = 1500;

type Tx<P> = FrontRing<NetifTxRequest, NetifTxResponse, <P as crate::platform::GrantTable>::Grant>;
type Rx<P> = FrontRing<NetifRxRequest, NetifRxResponse, <P as crate::platform::GrantTable>::Grant>;

/// A Xen virtual network interface, from the guest's side: V1's `NETWORK` over `netif`.
pub struct Netfront<P: Platform> {
    /// The event channel, the backend's liveness and the time limit.
    link: Link<P>,
    mac: MacAddr,
    tx: RefCell<Tx<P>>,
    rx: RefCell<Rx<P>>,
    tx_pages: Vec<P::Grant>,
    /// TX pages (and so request ids) free to use.
    tx_free: RefCell<Vec<u16>>,
    rx_pages: Vec<P::Grant>,
    stats: StatsCounter,
    failed: Cell<bool>,
    disconnected: Cell<bool>,
}

fn xen(error: XenError) -> NetError {
    NetError::Unknown(format!("xen: {error}"))
}

impl<P: Platform> Netfront<P> {
    /// Connects network interface `devid` of this domain (`frontend_id`): waits for its
    /// backend to be ready (InitWait), shares the rings, posts every receive buffer, and
    /// waits until the backend is connected. A backend that never starts is waited for
    /// (wrap the call in a timeout to give up).
    pub async fn connect(platform: P, frontend_id: DomId, devid: u32) -> Result<Self, NetError> {
        let paths = DevicePaths::discover(&platform, DeviceKind::Vif, frontend_id, devid)
            .await
            .map_err(xen)?;
        Self::attach(Rc::new(platform), paths).await
    }

    /// Connects again after the backend left (it closed, died or restarted: `write` and
    /// `listen` fail with `Disconnected`) or after [`Device::disconnect`]: closes this side,
    /// waits for the backend to let go of the old pages (within the timeout, if one was
    /// set), then does the whole handshake again, whenever the backend is back.
    pub async fn reconnect(&mut self) -> Result<(), NetError> {
        self.disconnect().await;
        let mut fresh = Self::attach(self.link.platform.clone(), self.link.paths.clone()).await?;
        fresh.link.set_limit(self.link.limit());
        // The old pages and port go now, the backend having let go of them.
        *self = fresh;
        Ok(())
    }

    /// Gives up a `write` that waits longer than `timeout` (by `time`'s clock) for the
    /// backend to free a transmit slot, with [`NetError::Timeout`]; a `disconnect` waits no
    /// longer than that for the backend either. Without it a silent backend makes writers
    /// wait for ever, as on Linux.
    pub fn with_timeout(mut self, time: impl Time + 'static, timeout: Duration) -> Self {
        self.link.set_limit(Some((Rc::new(time), timeout)));
        self
    }

    /// Where the interface is in the store.
    pub fn paths(&self) -> &DevicePaths {
        &self.link.paths
    }

    /// The handshake with the backend of `paths`, from Initialising to Connected.
    async fn attach(platform: Rc<P>, paths: DevicePaths) -> Result<Self, NetError> {
        await_backend(&*platform, &paths).await.map_err(xen)?;
        let front = &paths.frontend;
        let mac: MacAddr = platform
            .read(0, &format!("{front}/mac"))
            .await
            .map_err(xen)?
            .trim()
            .parse()
            .map_err(|e| NetError::Unknown(format!("{front}/mac: {e}")))?;
        let backend = paths.backend_id;
        let tx_page = platform.share(backend, false).map_err(xen)?;
        let rx_page = platform.share(backend, false).map_err(xen)?;
        let (tx_ref, rx_ref) = (tx_page.gref(), rx_page.gref());
        let tx: Tx<P> = FrontRing::init(tx_page).map_err(|e| NetError::Unknown(e.to_string()))?;
        let mut rx: Rx<P> =
            FrontRing::init(rx_page).map_err(|e| NetError::Unknown(e.to_string()))?;
        let port = platform.alloc_unbound(backend).map_err(xen)?;
        let tx_pages = (0..tx.size())
            .map(|_| platform.share(backend, true))
            .collect::<Result<Vec<_>, _>>()
            .map_err(xen)?;
        let rx_pages = (0..rx.size())
            .map(|_| platform.share(backend, false))
            .collect::<Result<Vec<_>, _>>()
            .map_err(xen)?;
        for (id, page) in rx_pages.iter().enumerate() {
            rx.push_request(NetifRxRequest {
                id: id as u16,
                pad: 0,
                gref: page.gref(),
            })
            .map_err(|e| NetError::Unknown(e.to_string()))?;
        }
        rx.push_requests_and_check_notify();
        for (node, value) in [
            ("tx-ring-ref", tx_ref.to_string()),
            ("rx-ring-ref", rx_ref.to_string()),
            ("event-channel", port.number().to_string()),
            ("request-rx-copy", "1".into()),
            ("feature-rx-notify", "1".into()),
            ("feature-sg", "0".into()),
            ("feature-gso-tcpv4", "0".into()),
        ] {
            platform
                .write(0, &format!("{front}/{node}"), &value)
                .await
                .map_err(xen)?;
        }
        write_state(&*platform, front, XenbusState::Connected)
            .await
            .map_err(xen)?;
        wait_for_state(&*platform, &paths.backend, |s| s == XenbusState::Connected)
            .await
            .map_err(xen)?;
        port.notify();
        Ok(Netfront {
            tx_free: RefCell::new((0..tx_pages.len() as u16).rev().collect()),
            tx_pages,
            rx_pages,
            tx: RefCell::new(tx),
            rx: RefCell::new(rx),
            link: Link::new(platform, paths, port),
            mac,
            stats: StatsCounter::default(),
            failed: Cell::new(false),
            disconnected: Cell::new(false),
        })
    }

    /// Takes the TX responses in, freeing their pages.
    fn reclaim(&self) -> Result<(), NetError> {
        let mut tx = self.tx.borrow_mut();
        loop {
            match tx.take_response() {
                Ok(Some(response)) => {
                    let mut free = self.tx_free.borrow_mut();
                    if usize::from(response.id) < self.tx_pages.len()
                        && !free.contains(&response.id)
                    {
                        free.push(response.id);
                    }
                }
                Ok(None) => match tx.final_check_for_responses() {
                    Ok(true) => continue,
                    Ok(false) => return Ok(()),
                    Err(error) => return Err(self.fail(error.to_string())),
                },
                Err(error) => return Err(self.fail(error.to_string())),
            }
        }
    }

    fn fail(&self, why: String) -> NetError {
        self.failed.set(true);
        NetError::Unknown(format!(
            "the network backend broke the ring protocol: {why}"
        ))
    }

    fn check(&self) -> Result<(), NetError> {
        if self.disconnected.get() || self.link.backend_gone() {
            Err(NetError::Disconnected)
        } else if self.failed.get() {
            Err(NetError::Unknown(
                "the network backend broke the ring protocol".into(),
            ))
        } else {
            Ok(())
        }
    }

    /// Copies `frame` into a free TX page and puts its request on the ring, unpublished
    /// (see [`Netfront::publish`]). Waits for a free slot, publishing what is queued first
    /// so that the backend can free one.
    async fn queue(&self, frame: &[u8]) -> Result<(), NetError> {
        let max = MTU + ETHERNET_HEADER_LEN;
        if frame.len() < ETHERNET_HEADER_LEN || frame.len() > max {
            return Err(NetError::InvalidLength {
                len: frame.len(),
                max,
            });
        }
        let slot = poll_fn(|cx| {
            if let Err(error) = self.check().and_then(|()| self.reclaim()) {
                self.link.leave(cx);
                return Poll::Ready(Err(error));
            }
            if let Some(id) = self.tx_free.borrow_mut().pop() {
                self.link.leave(cx);
                return Poll::Ready(Ok(id));
            }
            self.publish();
            if self.link.poll(cx).is_ready() {
                cx.waker().wake_by_ref();
            }
            Poll::Pending
        });
        let id = self.link.within(slot).await.map_err(NetError::Timeout)??;
        let page = &self.tx_pages[usize::from(id)];
        // SAFETY: a granted page of this domain, not in any request now.
        unsafe { core::ptr::copy_nonoverlapping(frame.as_ptr(), page.as_ptr(), frame.len()) };
        self.tx
            .borrow_mut()
            .push_request(NetifTxRequest {
                gref: page.gref(),
                offset: 0,
                flags: 0,
                id,
                size: frame.len() as u16,
            })
            .map_err(|e| NetError::Unknown(e.to_string()))?;
        self.stats.sent(frame.len());
        Ok(())
    }

    /// Publishes the queued TX requests, notifying the backend if it asked to be.
    fn publish(&self) {
        let notify = self.tx.borrow_mut().push_requests_and_check_notify();
        if notify {
            self.link.notify();
        }
    }

    /// The next frame the backend delivered, if one is complete; reposts the buffers.
    fn take_frame(&self) -> Result<Option<Bytes>, NetError> {
        let mut rx = self.rx.borrow_mut();
        let mut frame = Vec::new();
        // The backend left the TCP or UDP checksum to finish (Linux's netback does for
        // frames from dom0's own stack).
        let mut blank_checksum = false;
        loop {
            let response = match rx.take_response() {
                Ok(Some(response)) => response,
                Ok(None) => {
                    if !frame.is_empty() {
                        // A backend publishes a frame whole: one cut short is broken.
                        return Err(self.fail("a frame ended in the middle".into()));
                    }
                    return match rx.final_check_for_responses() {
                        Ok(true) => continue,
                        Ok(false) => Ok(None),
                        Err(error) => Err(self.fail(error.to_string())),
                    };
                }
                Err(error) => return Err(self.fail(error.to_string())),
            };
            let id = usize::from(response.id);
            let Some(page) = self.rx_pages.get(id) else {
                return Err(self.fail(format!("an RX response for buffer {id}")));
            };
            let offset = usize::from(response.offset);
            let status = response.status;
            if status > 0 && offset + status as usize <= page.len() {
                // SAFETY: a granted page of this domain; the backend has answered for it.
                let data = unsafe {
                    core::slice::from_raw_parts(page.as_ptr().add(offset), status as usize)
                };
                frame.extend_from_slice(data);
            }
            // The buffer goes back at once.
            let _ = rx.push_request(NetifRxRequest {
                id: response.id,
                pad: 0,
                gref: page.gref(),
            });
            if rx.push_requests_and_check_notify() {
                self.link.notify();
            }
            if response.flags & NETRXF_CSUM_BLANK != 0 {
                blank_checksum = true;
            }
            if response.flags & NETRXF_MORE_DATA == 0 {
                if blank_checksum {
                    crate::checksum::complete(&mut frame);
                }
                return Ok((!frame.is_empty()).then(|| Bytes::from(frame)));
            }
            if frame.len() > 65_535 {
                return Err(self.fail("a frame of more than 64 KiB".into()));
            }
        }
    }
}

#[async_trait(?Send)]
impl<P: Platform> Device for Netfront<P> {
    /// Closes the interface: Closing, then Closed once the backend has let go of the pages
    /// (or the timeout is up); `listen` returns.
    async fn disconnect(&self) {
        self.disconnected.set(true);
        // Let `listen` and waiting writers notice.
        self.link.wake_all();
        self.link.close().await;
    }
}

#[async_trait(?Send)]
impl<P: Platform> Network for Netfront<P> {
    async fn write(&self, frame: &[u8]) -> Result<(), NetError> {
        let queued = self.queue(frame).await;
        self.publish();
        queued
    }

    /// All of them on the ring, with one notification of the backend (or one each time the
    /// ring is full and a slot must be waited for).
    async fn write_many(&self, frames: Vec<Bytes>) -> Result<(), NetError> {
        let mut outcome = Ok(());
        for frame in frames {
            // `and` keeps the first refusal.
            outcome = outcome.and(self.queue(&frame).await);
        }
        self.publish();
        outcome
    }

    async fn listen(&self, handler: FrameHandler) -> Result<(), NetError> {
        loop {
            // The next frame, the end, or an error; the wait is left to the writers while
            // the handler runs.
            let next = poll_fn(|cx| {
                let outcome = if self.disconnected.get() {
                    Ok(None)
                } else if self.link.backend_gone() {
                    Err(NetError::Disconnected)
                } else {
                    self.check().and_then(|()| self.take_frame()).map(Some)
                };
                match outcome {
                    Ok(Some(None)) => {
                        if self.link.poll(cx).is_ready() {
                            let _ = self.reclaim();
                            cx.waker().wake_by_ref();
                        }
                        Poll::Pending
                    }
                    outcome => {
                        self.link.leave(cx);
                        Poll::Ready(outcome.map(Option::flatten))
                    }
                }
            })
            .await?;
            let Some(frame) = next else { return Ok(()) };
            self.stats.received(frame.len());
            handler(frame).await;
        }
    }

    fn mac(&self) -> MacAddr {
        self.mac
    }

    fn mtu(&self) -> usize {
        MTU
    }

    fn get_stats_counters(&self) -> Stats {
        self.stats.get()
    }

    fn reset_stats_counters(&self) {
        self.stats.reset()
    }
}
