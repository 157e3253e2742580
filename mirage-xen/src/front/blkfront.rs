//! `Blkfront`: a `Block` over a Xen block backend.
//!
//! The frontend shares one ring page and a pool of data pages with the backend (granted once,
//! reused by every request, at most a ring's worth of requests of 11 pages each), and one
//! event channel. A transfer is cut into requests of up to 11 pages (44 KiB), all pushed at
//! once, so that many are in flight; the wire counts 512-byte sectors whatever the device's
//! own sector size is.

#[allow(unused_imports)]
use crate::prelude::*;

use super::link::{Link, await_backend};
use super::requests::{Completed, InFlight};
use crate::abi::blkif::*;
use crate::abi::xenbus::XenbusState;
use crate::abi::{DomId, PAGE_SIZE};
use crate::platform::{Grant, Platform, Port, XenError};
use crate::ring::{FrontRing, RingError, SharedMemory};
use crate::xenbus::{DeviceKind, DevicePaths, wait_for_state, write_state};
use alloc::rc::Rc;
use async_trait::async_trait;
use core::cell::{Cell, RefCell};
use core::future::poll_fn;
use core::task::Poll;
use core::time::Duration;
use mirage_types::{Block, BlockError, BlockInfo, Device, Time, check_request};

/// What a request holds: its data pages, and its indirect page if it has one.
type Held = (Vec<usize>, Option<usize>);

/// Segments of an indirect request at most (256 KiB), whatever more the backend offers.
const MAX_INDIRECT_SEGMENTS: usize = 64;

type Ring<P> = FrontRing<BlkifRequest, BlkifResponse, <P as crate::platform::GrantTable>::Grant>;

/// A Xen virtual block device, from the guest's side: V1's `BLOCK` over `blkif`.
pub struct Blkfront<P: Platform> {
    /// The event channel (listened to by every request waiting for its answer), the
    /// backend's liveness and the time limit.
    link: Link<P>,
    info: BlockInfo,
    flush: bool,
    ring: RefCell<Ring<P>>,
    /// Data pages granted to the backend, and which are free.
    pages: Vec<P::Grant>,
    free_pages: RefCell<Vec<usize>>,
    /// Pages each request in flight holds (data pages, and its indirect page if any).
    held: RefCell<alloc::collections::BTreeMap<u64, Held>>,
    /// Segments per request: 11, or more with the backend's indirect requests.
    per_request: usize,
    /// Indirect pages (one per ring slot, read-only for the backend), and which are free.
    indirect_pages: Vec<P::Grant>,
    free_indirect: RefCell<Vec<usize>>,
    in_flight: RefCell<InFlight<i16>>,
    /// The operation of each request in flight, which its response must name.
    operations: RefCell<alloc::collections::BTreeMap<u64, u8>>,
    /// The backend broke the protocol or left, or the device was disconnected.
    failed: Cell<bool>,
}

fn xen_error(error: XenError) -> BlockError {
    BlockError::Unknown(format!("xen: {error}"))
}

impl<P: Platform> Blkfront<P> {
    /// Connects to block device `devid` of this domain (`frontend_id`): finds its backend,
    /// waits for it to be ready (InitWait), shares the ring, and waits until the backend is
    /// connected. A backend that never starts is waited for (wrap the call in a timeout to
    /// give up).
    pub async fn connect(platform: P, frontend_id: DomId, devid: u32) -> Result<Self, BlockError> {
        let paths = DevicePaths::discover(&platform, DeviceKind::Vbd, frontend_id, devid)
            .await
            .map_err(xen_error)?;
        Self::attach(Rc::new(platform), paths).await
    }

    /// The handshake with the backend of `paths`, from Initialising to Connected.
    async fn attach(platform: Rc<P>, paths: DevicePaths) -> Result<Self, BlockError> {
        await_backend(&*platform, &paths).await.map_err(xen_error)?;
        let backend = paths.backend_id;
        let ring_page = platform.share(backend, false).map_err(xen_error)?;
        let ring_ref = ring_page.gref();
        let ring = FrontRing::init(ring_page)
            .map_err(|e| BlockError::Unknown(format!("blkfront ring: {e}")))?;
        let port = platform.alloc_unbound(backend).map_err(xen_error)?;
        let size = ring.size() as usize;
        let pages = (0..size * BLKIF_MAX_SEGMENTS_PER_REQUEST)
            .map(|_| platform.share(backend, false))
            .collect::<Result<Vec<_>, _>>()
            .map_err(xen_error)?;

        // Ring, channel and protocol in one transaction, then Initialised.
        let front = &paths.frontend;
        loop {
            let tx = platform.transaction_start().await.map_err(xen_error)?;
            let written = async {
                platform
                    .write(tx, &format!("{front}/ring-ref"), &ring_ref.to_string())
                    .await?;
                platform
                    .write(
                        tx,
                        &format!("{front}/event-channel"),
                        &port.number().to_string(),
                    )
                    .await?;
                platform
                    .write(tx, &format!("{front}/protocol"), "x86_64-abi")
                    .await?;
                // The data pages are granted once and reused by every request: a backend
                // may keep them mapped.
                platform
                    .write(tx, &format!("{front}/feature-persistent"), "1")
                    .await?;
                platform
                    .write(
                        tx,
                        &format!("{front}/state"),
                        &XenbusState::Initialised.to_string(),
                    )
                    .await
            }
            .await;
            match written {
                Ok(()) => match platform.transaction_end(tx, true).await {
                    Ok(()) => break,
                    Err(XenError::Again) => continue,
                    Err(error) => return Err(xen_error(error)),
                },
                Err(error) => {
                    let _ = platform.transaction_end(tx, false).await;
                    return Err(xen_error(error));
                }
            }
        }
        wait_for_state(&*platform, &paths.backend, |s| s == XenbusState::Connected)
            .await
            .map_err(xen_error)?;

        let read = |node: &'static str| {
            let path = format!("{}/{node}", paths.backend);
            let platform = &platform;
            async move { platform.read(0, &path).await.ok() }
        };
        let number = |text: Option<String>, node: &str| {
            text.and_then(|t| t.trim().parse::<u64>().ok())
                .ok_or_else(|| {
                    BlockError::Unknown(format!("the backend's {node} is missing or not a number"))
                })
        };
        let sectors = number(read("sectors").await, "sectors")?;
        let sector_size = match read("sector-size").await {
            None => 512,
            text => number(text, "sector-size")?,
        };
        if !(512..=4096).contains(&sector_size) || !sector_size.is_power_of_two() {
            return Err(BlockError::Unknown(format!(
                "the backend's sector-size {sector_size} is not a power of two from 512 to 4096"
            )));
        }
        let info_bits = number(read("info").await.or(Some("0".into())), "info")?;
        let mode_ro = read("mode").await.is_some_and(|m| m.trim() == "r");
        let indirect = read("feature-max-indirect-segments")
            .await
            .and_then(|n| n.trim().parse::<usize>().ok())
            .unwrap_or(0);
        let per_request = if indirect > BLKIF_MAX_SEGMENTS_PER_REQUEST {
            indirect.min(MAX_INDIRECT_SEGMENTS)
        } else {
            BLKIF_MAX_SEGMENTS_PER_REQUEST
        };
        // Indirect pages are granted writable although the backend only reads them: with
        // persistent grants, Linux's blkback maps every grant read-write (a mapping it keeps
        // may serve a later write), and its map of a read-only grant fails ("invalid buffer
        // -- could not remap it"), failing the request. We rewrite a page's segments before
        // each request, so a backend writing there changes nothing of ours.
        let indirect_pages = if per_request > BLKIF_MAX_SEGMENTS_PER_REQUEST {
            (0..size)
                .map(|_| platform.share(backend, false))
                .collect::<Result<Vec<_>, _>>()
                .map_err(xen_error)?
        } else {
            Vec::new()
        };
        let flush = read("feature-flush-cache")
            .await
            .is_some_and(|v| v.trim() == "1");
        write_state(&*platform, front, XenbusState::Connected)
            .await
            .map_err(xen_error)?;
        Ok(Blkfront {
            info: BlockInfo {
                read_write: info_bits as u32 & VDISK_READONLY == 0 && !mode_ro,
                sector_size: sector_size as u32,
                size_sectors: sectors,
            },
            flush,
            per_request,
            free_indirect: RefCell::new((0..indirect_pages.len()).rev().collect()),
            indirect_pages,
            free_pages: RefCell::new((0..pages.len()).rev().collect()),
            pages,
            held: RefCell::default(),
            ring: RefCell::new(ring),
            in_flight: RefCell::default(),
            operations: RefCell::default(),
            failed: Cell::new(false),
            link: Link::new(platform, paths, port),
        })
    }

    /// Connects again after the backend left (it closed, died or restarted: requests fail
    /// with `Disconnected`) or after [`Device::disconnect`]: closes this side, waits for the
    /// backend to let go of the old pages (within the timeout, if one was set), then does
    /// the whole handshake again with the backend, whenever it is back. The device's size may
    /// have changed; the timeout stays.
    pub async fn reconnect(&mut self) -> Result<(), BlockError> {
        self.disconnect().await;
        let mut fresh = Self::attach(self.link.platform.clone(), self.link.paths.clone()).await?;
        fresh.link.set_limit(self.link.limit());
        // The old pages and port go now, the backend having let go of them.
        *self = fresh;
        Ok(())
    }

    /// Gives up on a request the backend has not answered within `timeout` (by `time`'s
    /// clock): it fails with [`BlockError::Timeout`] and the device is given up, since what
    /// the backend does with the request's pages later cannot be known. Without it a silent
    /// backend makes requests wait for ever, as on Linux.
    pub fn with_timeout(mut self, time: impl Time + 'static, timeout: Duration) -> Self {
        self.link.set_limit(Some((Rc::new(time), timeout)));
        self
    }

    /// Pages one request moves at most: 11, or more when the backend takes indirect
    /// requests (`feature-max-indirect-segments`, used up to 64).
    pub fn segments_per_request(&self) -> usize {
        self.per_request
    }

    /// Where the device is in the store.
    pub fn paths(&self) -> &DevicePaths {
        &self.link.paths
    }

    /// Takes every response published, handing each to its request.
    fn drain(&self) {
        let mut ring = self.ring.borrow_mut();
        let mut in_flight = self.in_flight.borrow_mut();
        loop {
            match ring.take_response() {
                Ok(Some(response)) => {
                    let asked = self.operations.borrow_mut().remove(&response.id);
                    if asked.is_some_and(|operation| operation != response.operation) {
                        // An answer to another question: the backend is broken (Linux's
                        // blkfront gives the device up too).
                        return self.fail(&mut in_flight, RingError::NothingToAnswer);
                    }
                    match in_flight.complete(response.id, response.status) {
                        Completed::Delivered => {}
                        Completed::Abandoned => {
                            if let Some(held) = self.held.borrow_mut().remove(&response.id) {
                                self.release(held);
                            }
                        }
                        // An answer to a request never made: the backend is broken or hostile,
                        // and nothing it says can be matched to a request any more.
                        Completed::Unknown => {
                            return self.fail(&mut in_flight, RingError::NothingToAnswer);
                        }
                    }
                }
                Ok(None) => match ring.final_check_for_responses() {
                    Ok(true) => continue,
                    Ok(false) => return,
                    Err(error) => return self.fail(&mut in_flight, error),
                },
                Err(error) => return self.fail(&mut in_flight, error),
            }
        }
    }

    fn fail(&self, in_flight: &mut InFlight<i16>, _error: RingError) {
        self.failed.set(true);
        in_flight.fail_all(|| BLKIF_RSP_ERROR);
    }

    /// Pushes one request of `pieces` (page-sized or smaller, 512-byte multiples) at wire
    /// sector `sector`, waits for its response and returns its status. `fill` writes a page
    /// before the request; `empty` reads it after.
    async fn request(
        &self,
        operation: u8,
        sector: u64,
        lengths: &[usize],
        fill: impl Fn(usize, &mut [u8]),
        empty: impl Fn(usize, &[u8]),
    ) -> Result<(), BlockError> {
        // Room in the ring, and pages.
        let (id, (pages, indirect_page)) = poll_fn(|cx| {
            if self.failed.get() {
                return Poll::Ready(Err(BlockError::Disconnected));
            }
            let mut free = self.free_pages.borrow_mut();
            let ring = self.ring.borrow();
            let indirect = lengths.len() > BLKIF_MAX_SEGMENTS_PER_REQUEST;
            let mut free_indirect = self.free_indirect.borrow_mut();
            if ring.free_requests() > 0
                && free.len() >= lengths.len()
                && (!indirect || !free_indirect.is_empty())
            {
                let pages: Vec<usize> = (0..lengths.len())
                    .map(|_| free.pop().expect("counted"))
                    .collect();
                let indirect_page = if indirect { free_indirect.pop() } else { None };
                let id = self.in_flight.borrow_mut().start();
                return Poll::Ready(Ok((id, (pages, indirect_page))));
            }
            drop(free_indirect);
            drop(ring);
            self.in_flight.borrow_mut().wait_for_room(cx);
            Poll::Pending
        })
        .await?;
        let mut segments = Vec::with_capacity(lengths.len());
        for (i, (&page, &len)) in pages.iter().zip(lengths).enumerate() {
            let memory = &self.pages[page];
            // SAFETY: a granted page of this domain, alive as long as `self`; the backend does
            // not touch it until the request is published below.
            let bytes = unsafe { core::slice::from_raw_parts_mut(memory.as_ptr(), len) };
            fill(i, bytes);
            segments.push(BlkifRequestSegment {
                gref: memory.gref(),
                first_sect: 0,
                last_sect: (len / BLKIF_SECTOR_SIZE - 1) as u8,
                pad: [0; 2],
            });
        }
        let request = match indirect_page {
            // More segments than a request holds: they go in an indirect page.
            Some(index) => {
                let page = &self.indirect_pages[index];
                for (n, segment) in segments.iter().enumerate() {
                    // SAFETY: n < 64 segments of 8 bytes in a granted 4 KiB page of this
                    // domain, not in use by the backend until the request is published.
                    unsafe {
                        core::ptr::write_volatile(
                            (page.as_ptr() as *mut BlkifRequestSegment).add(n),
                            *segment,
                        )
                    };
                }
                let mut grefs = [0; BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
                grefs[0] = page.gref();
                BlkifRequestIndirect {
                    operation: BLKIF_OP_INDIRECT,
                    indirect_op: operation,
                    nr_segments: segments.len() as u16,
                    pad: 0,
                    id,
                    sector_number: sector,
                    handle: 0,
                    pad2: 0,
                    indirect_grefs: grefs,
                    pad3: 0,
                }
                .to_slot()
            }
            None => {
                let mut seg = [BlkifRequestSegment::default(); BLKIF_MAX_SEGMENTS_PER_REQUEST];
                seg[..segments.len()].copy_from_slice(&segments);
                BlkifRequest {
                    operation,
                    nr_segments: segments.len() as u8,
                    handle: 0,
                    pad: 0,
                    id,
                    sector_number: sector,
                    seg,
                }
            }
        };
        self.operations.borrow_mut().insert(id, operation);
        let pushed = {
            let mut ring = self.ring.borrow_mut();
            ring.push_request(request)
                .map(|()| ring.push_requests_and_check_notify())
        };
        match pushed {
            Ok(notify) => {
                if notify {
                    self.link.notify();
                }
            }
            Err(error) => {
                self.in_flight.borrow_mut().cancel(id);
                self.release((pages, indirect_page));
                return Err(BlockError::Unknown(format!("blkfront: {error}")));
            }
        }
        self.held
            .borrow_mut()
            .insert(id, (pages.clone(), indirect_page));
        let mut guard = Abandon {
            front: self,
            id,
            done: false,
        };
        let answer = poll_fn(|cx| {
            self.drain();
            if let Some(status) = self.in_flight.borrow_mut().take(id, cx) {
                self.link.leave(cx);
                return Poll::Ready(status);
            }
            if self.link.poll(cx).is_ready() {
                if self.link.backend_gone() && !self.failed.get() {
                    // What it did with the requests in flight cannot be known: they fail.
                    self.failed.set(true);
                    self.in_flight.borrow_mut().fail_all(|| BLKIF_RSP_ERROR);
                }
                cx.waker().wake_by_ref();
            }
            Poll::Pending
        });
        let status = match self.link.within(answer).await {
            Ok(status) => status,
            Err(limit) => {
                // The request stays abandoned (its pages held) and the device is given up.
                self.failed.set(true);
                return Err(BlockError::Timeout(limit));
            }
        };
        guard.done = true;
        if status == BLKIF_RSP_OKAY {
            for (i, (&page, &len)) in pages.iter().zip(lengths).enumerate() {
                // SAFETY: as above; the backend has answered, so the page is ours again.
                let bytes = unsafe { core::slice::from_raw_parts(self.pages[page].as_ptr(), len) };
                empty(i, bytes);
            }
        }
        self.held.borrow_mut().remove(&id);
        self.release((pages, indirect_page));
        match status {
            BLKIF_RSP_OKAY => Ok(()),
            BLKIF_RSP_EOPNOTSUPP => Err(BlockError::Unimplemented),
            _ if self.link.backend_gone() => Err(BlockError::Disconnected),
            _ if self.failed.get() => Err(BlockError::Unknown(
                "the block backend broke the ring protocol".into(),
            )),
            status => Err(BlockError::Unknown(format!(
                "the block backend answered status {status}"
            ))),
        }
    }

    /// Gives back the pages a request held.
    fn release(&self, (pages, indirect): Held) {
        self.free_pages.borrow_mut().extend(pages);
        self.free_indirect.borrow_mut().extend(indirect);
    }

    /// The byte offset, on the wire, of device sector `sector`.
    fn wire_sector(&self, sector: u64, byte: usize) -> u64 {
        sector * u64::from(self.info.sector_size) / BLKIF_SECTOR_SIZE as u64
            + (byte / BLKIF_SECTOR_SIZE) as u64
    }
}

/// Marks a request abandoned if its future is dropped before the response.
struct Abandon<'a, P: Platform> {
    front: &'a Blkfront<P>,
    id: u64,
    done: bool,
}

impl<P: Platform> Drop for Abandon<'_, P> {
    fn drop(&mut self) {
        if !self.done {
            self.front.in_flight.borrow_mut().abandon(self.id);
            self.front.link.wake_all();
        }
    }
}

/// A transfer's requests: (byte offset in the transfer, page lengths).
fn plan(total: usize, per_request: usize) -> Vec<(usize, Vec<usize>)> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < total {
        let len = (per_request * PAGE_SIZE).min(total - at);
        let pages = (0..len.div_ceil(PAGE_SIZE))
            .map(|i| PAGE_SIZE.min(len - i * PAGE_SIZE))
            .collect();
        out.push((at, pages));
        at += len;
    }
    out
}

#[async_trait(?Send)]
impl<P: Platform> Device for Blkfront<P> {
    /// Closes the device (Closing, then Closed once the backend has let go of the pages, or
    /// the timeout is up); later requests fail with `Disconnected` until
    /// [`Blkfront::reconnect`].
    async fn disconnect(&self) {
        self.failed.set(true);
        self.in_flight.borrow_mut().fail_all(|| BLKIF_RSP_ERROR);
        self.link.close().await;
    }
}

#[async_trait(?Send)]
impl<P: Platform> Block for Blkfront<P> {
    async fn get_info(&self) -> BlockInfo {
        self.info
    }

    async fn read(&self, start_sector: u64, buffers: &mut [&mut [u8]]) -> Result<(), BlockError> {
        check_request(&self.info, start_sector, buffers.iter().map(|b| b.len()))?;
        let mut sector = start_sector;
        for buffer in buffers.iter_mut() {
            let requests = plan(buffer.len(), self.per_request);
            let cells: Vec<RefCell<&mut [u8]>> = {
                let mut rest: &mut [u8] = buffer;
                let mut cells = Vec::new();
                for (_, pages) in &requests {
                    let (head, tail) = rest.split_at_mut(pages.iter().sum());
                    cells.push(RefCell::new(head));
                    rest = tail;
                }
                cells
            };
            let transfers = requests.iter().zip(&cells).map(|((offset, pages), cell)| {
                self.request(
                    BLKIF_OP_READ,
                    self.wire_sector(sector, *offset),
                    pages,
                    |_, _| {},
                    move |i, bytes| {
                        cell.borrow_mut()[i * PAGE_SIZE..i * PAGE_SIZE + bytes.len()]
                            .copy_from_slice(bytes)
                    },
                )
            });
            for result in futures::future::join_all(transfers).await {
                result?;
            }
            sector += (buffer.len() / self.info.sector_size as usize) as u64;
        }
        Ok(())
    }

    async fn write(&self, start_sector: u64, buffers: &[&[u8]]) -> Result<(), BlockError> {
        if !self.info.read_write {
            return Err(BlockError::IsReadOnly);
        }
        check_request(&self.info, start_sector, buffers.iter().map(|b| b.len()))?;
        let mut sector = start_sector;
        for buffer in buffers {
            let transfers =
                plan(buffer.len(), self.per_request)
                    .into_iter()
                    .map(|(offset, pages)| {
                        let data = &buffer[offset..];
                        async move {
                            self.request(
                                BLKIF_OP_WRITE,
                                self.wire_sector(sector, offset),
                                &pages,
                                |i, page| {
                                    page.copy_from_slice(
                                        &data[i * PAGE_SIZE..i * PAGE_SIZE + page.len()],
                                    )
                                },
                                |_, _| {},
                            )
                            .await
                        }
                    });
            for result in futures::future::join_all(transfers).await {
                result?;
            }
            sector += (buffer.len() / self.info.sector_size as usize) as u64;
        }
        Ok(())
    }

    /// Flushes the backend's cache when it offers `feature-flush-cache`; otherwise writes are
    /// already as durable as the backend makes them.
    async fn flush(&self) -> Result<(), BlockError> {
        if !self.flush {
            return Ok(());
        }
        self.request(BLKIF_OP_FLUSH_DISKCACHE, 0, &[], |_, _| {}, |_, _| {})
            .await
    }
}
