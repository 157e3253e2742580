//! `Netback`: a guest's network interface bridged to any `Network` here: frames the guest
//! sends go out on the device, frames the device receives go to the guest.
//!
//! Each TX request is checked (its grant, offset and size within the page, no fragments)
//! before a byte is copied; a bad one is answered with an error. Frames for the guest wait
//! in a bounded queue for a posted buffer; beyond it they are dropped (counted).

#[allow(unused_imports)]
use crate::prelude::*;

use super::ServeError;
use super::stop::StopFlag;
use crate::abi::netif::*;
use crate::abi::xenbus::XenbusState;
use crate::abi::{DomId, PAGE_SIZE};
use crate::platform::{GrantPiece, Platform, Port, Watch};
use crate::ring::BackRing;
use crate::xenbus::{DevicePaths, read_state, write_state};
use alloc::collections::VecDeque;
use alloc::rc::Rc;
use bytes::Bytes;
use core::cell::{Cell, RefCell};
use core::future::poll_fn;
use core::task::{Poll, Waker};
use futures::future::{Either, select};
use mirage_types::{Network, frame_handler};

/// Frames waiting for a guest buffer at most.
const RX_QUEUE: usize = 512;

/// Frames from the device on their way to the guest.
#[derive(Default)]
struct Inbox {
    frames: RefCell<VecDeque<Bytes>>,
    waker: RefCell<Option<Waker>>,
    dropped: Cell<u64>,
}

/// A guest network interface's backend, bridged to `N`.
pub struct Netback<P: Platform, N: Network> {
    platform: P,
    paths: DevicePaths,
    net: N,
    inbox: Rc<Inbox>,
    stop: StopFlag,
}

impl<P: Platform, N: Network> Netback<P, N> {
    /// A backend for interface `paths` (the toolstack made its directories) onto `net`.
    pub fn new(platform: P, paths: DevicePaths, net: N) -> Self {
        Netback {
            platform,
            paths,
            net,
            inbox: Rc::default(),
            stop: StopFlag::default(),
        }
    }

    /// Frames for the guest dropped because it posted no buffers fast enough.
    pub fn dropped(&self) -> u64 {
        self.inbox.dropped.get()
    }

    /// Serves the interface to one frontend after another: when the frontend closes (or
    /// restarts), waits for it to connect again and serves it again; returns once the device
    /// is removed (the frontend's directory is gone, or `online` is 0 in the backend's), or
    /// once [`Netback::stop`] was called and the connection closed.
    pub async fn run(&self) -> Result<(), ServeError> {
        super::serve_connections(&self.platform, &self.paths, &self.stop, || self.serve()).await
    }

    /// Asks [`Netback::run`] to close the interface (what the guest sent so far is
    /// delivered first) and return.
    pub fn stop(&self) {
        self.stop.set();
    }

    /// Bridges until the guest closes the interface.
    pub async fn serve(&self) -> Result<(), ServeError> {
        let store = &self.platform;
        let (front, back) = (&self.paths.frontend, &self.paths.backend);
        let features: Vec<(&str, String)> = [
            ("feature-rx-copy", "1"),
            ("feature-sg", "0"),
            ("feature-gso-tcpv4", "0"),
            ("feature-rx-notify", "1"),
            // Checksums a frontend leaves blank are finished here before the frame goes
            // to the device (Linux's netfront leaves TCP and UDP ones blank whatever the
            // backend says).
            ("feature-ipv6-csum-offload", "0"),
        ]
        .into_iter()
        .map(|(node, value)| (node, value.to_owned()))
        .collect();
        let handshake = super::await_frontend(store, &self.paths, &features);
        if super::unless_stopped(&self.stop, handshake)
            .await?
            .is_none()
        {
            return Ok(());
        }
        let number = |node: &'static str| super::frontend_number(store, &self.paths, node);
        let guest = self.paths.frontend_id;
        let mut tx: BackRing<NetifTxRequest, NetifTxResponse, _> = BackRing::attach(
            self.platform
                .map(guest, number("tx-ring-ref").await?, true)?,
        )?;
        let mut rx: BackRing<NetifRxRequest, NetifRxResponse, _> = BackRing::attach(
            self.platform
                .map(guest, number("rx-ring-ref").await?, true)?,
        )?;
        let port = self
            .platform
            .bind_interdomain(guest, number("event-channel").await?)?;
        write_state(store, back, XenbusState::Connected).await?;
        let state = store.watch(&format!("{front}/state")).await?;

        let inbox = self.inbox.clone();
        let receiving = self.net.listen(frame_handler(move |frame| {
            let inbox = inbox.clone();
            async move {
                let mut frames = inbox.frames.borrow_mut();
                if frames.len() >= RX_QUEUE {
                    inbox.dropped.set(inbox.dropped.get() + 1);
                } else {
                    frames.push_back(frame);
                }
                if let Some(waker) = inbox.waker.borrow_mut().take() {
                    waker.wake();
                }
            }
        }));
        let mut receiving = core::pin::pin!(receiving);
        // The frontend is closing: what it sent before is still delivered.
        let mut leaving = false;
        loop {
            // Guest to device.
            let mut sent = Vec::new();
            while let Some(request) = tx.take_request()? {
                let status = match self.tx_frame(guest, &request) {
                    Ok(frame) => {
                        sent.push(frame);
                        NETIF_RSP_OKAY
                    }
                    Err(()) => NETIF_RSP_ERROR,
                };
                tx.push_response(NetifTxResponse {
                    id: request.id,
                    status,
                })?;
            }
            let mut notify = tx.push_responses_and_check_notify();
            for frame in sent {
                let _ = self.net.write(&frame).await;
            }
            // Device to guest, as far as buffers are posted.
            loop {
                if self.inbox.frames.borrow().is_empty() || rx.unconsumed_requests()? == 0 {
                    break;
                }
                let request = rx.take_request()?.expect("counted");
                let frame = self.inbox.frames.borrow_mut().pop_front().expect("checked");
                let status = self.rx_frame(guest, &request, &frame);
                rx.push_response(NetifRxResponse {
                    id: request.id,
                    offset: 0,
                    flags: 0,
                    status,
                })?;
            }
            notify |= rx.push_responses_and_check_notify();
            if notify {
                port.notify();
            }
            let work = tx.final_check_for_requests()?
                || (!self.inbox.frames.borrow().is_empty() && rx.final_check_for_requests()?);
            if work {
                continue;
            }
            if leaving {
                // Unmap and unbind before saying Closed: the frontend ends its grants once
                // it reads that.
                drop((tx, rx, port));
                write_state(store, back, XenbusState::Closing).await?;
                write_state(store, back, XenbusState::Closed).await?;
                return Ok(());
            }
            let outcome = {
                let changed = core::pin::pin!(state.next());
                let event = core::pin::pin!(port.wait());
                let arrived = poll_fn(|cx| {
                    if !self.inbox.frames.borrow().is_empty() {
                        return Poll::Ready(());
                    }
                    *self.inbox.waker.borrow_mut() = Some(cx.waker().clone());
                    match receiving.as_mut().poll(cx) {
                        // The device stopped: nothing more will arrive.
                        Poll::Ready(_) => Poll::Pending,
                        Poll::Pending => Poll::Pending,
                    }
                });
                let arrived = core::pin::pin!(arrived);
                let stopped = core::pin::pin!(self.stop.wait());
                match select(changed, select(event, select(arrived, stopped))).await {
                    Either::Left((changed, _)) => Some(changed),
                    Either::Right(_) => None,
                }
            };
            if let Some(changed) = outcome {
                changed?;
                leaving = super::frontend_left(read_state(store, front).await?);
            }
            leaving |= self.stop.is_set();
        }
    }

    /// The frame of a TX request, checked and copied out of the guest's page.
    fn tx_frame(&self, guest: DomId, request: &NetifTxRequest) -> Result<Vec<u8>, ()> {
        let (offset, size) = (usize::from(request.offset), usize::from(request.size));
        if request.flags & (NETTXF_MORE_DATA | NETTXF_EXTRA_INFO) != 0
            || size == 0
            || offset + size > PAGE_SIZE
        {
            return Err(());
        }
        // Copied by the hypervisor (Linux's netback copies too): nothing of the guest's is
        // mapped into this process.
        let mut frame = vec![0u8; size];
        let piece = GrantPiece {
            gref: request.gref,
            offset: request.offset,
            len: request.size,
        };
        self.platform
            .copy_from_grants(guest, &[piece], &mut frame)
            .map_err(|_| ())?;
        if request.flags & NETTXF_CSUM_BLANK != 0 {
            crate::checksum::complete(&mut frame);
        }
        Ok(frame)
    }

    /// Copies `frame` into the guest's buffer of `request`; the response's status.
    fn rx_frame(&self, guest: DomId, request: &NetifRxRequest, frame: &[u8]) -> i16 {
        if frame.len() > PAGE_SIZE {
            return NETIF_RSP_DROPPED;
        }
        let piece = GrantPiece {
            gref: request.gref,
            offset: 0,
            len: frame.len() as u16,
        };
        match self.platform.copy_to_grants(guest, frame, &[piece]) {
            Ok(()) => frame.len() as i16,
            Err(_) => NETIF_RSP_ERROR,
        }
    }
}
