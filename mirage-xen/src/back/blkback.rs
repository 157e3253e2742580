//! `Blkback`: any `Block` served to a Xen guest's block frontend.
//!
//! The backend publishes the device (sectors, sector size, read-only, flush), waits for the
//! frontend's ring and event channel, maps them, and then answers requests until the
//! frontend closes. Every request is checked before anything moves: its operation, its
//! segment count and sector ranges, its alignment to the device's sectors and the device's
//! end; a bad one gets an error response, never a panic. The requests waiting on the ring
//! are served together (overlapping on a slow device), answered in the order taken.

#[allow(unused_imports)]
use crate::prelude::*;

use super::stop::StopFlag;
use crate::abi::PAGE_SIZE;
use crate::abi::blkif::*;
use crate::abi::xenbus::XenbusState;
use crate::platform::{GrantPiece, Platform, Port, Watch, XenError};
use crate::ring::{BackRing, RingError};
use crate::xenbus::{DevicePaths, read_state, write_state};
use mirage_types::Block;

/// Segments an indirect request may carry, as advertised (256 KiB at most per request).
pub const MAX_INDIRECT_SEGMENTS: usize = 64;

/// The operation a response names: an indirect request's is the one it carries (Linux's
/// blkfront rejects anything else and stops the device, as Linux's blkback answers).
fn answered_operation(request: &BlkifRequest) -> u8 {
    if request.operation == BLKIF_OP_INDIRECT {
        BlkifRequestIndirect::from_slot(request).indirect_op
    } else {
        request.operation
    }
}

/// A block device served to a frontend.
pub struct Blkback<P: Platform, B: Block> {
    platform: P,
    paths: DevicePaths,
    block: B,
    stop: StopFlag,
}

/// Why serving stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServeError {
    /// The platform failed (store, grants, event channels).
    Xen(XenError),
    /// The frontend broke the ring protocol.
    Ring(RingError),
    /// The frontend's keys were missing or wrong.
    Frontend(String),
}

impl core::fmt::Display for ServeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ServeError::Xen(error) => write!(f, "xen: {error}"),
            ServeError::Ring(error) => write!(f, "the frontend's ring: {error}"),
            ServeError::Frontend(why) => write!(f, "the frontend: {why}"),
        }
    }
}

impl core::error::Error for ServeError {}

impl From<XenError> for ServeError {
    fn from(error: XenError) -> Self {
        ServeError::Xen(error)
    }
}

impl<P: Platform, B: Block> Blkback<P, B> {
    /// A backend for device `paths` (the toolstack made its directories) over `block`.
    pub fn new(platform: P, paths: DevicePaths, block: B) -> Self {
        Blkback {
            platform,
            paths,
            block,
            stop: StopFlag::default(),
        }
    }

    /// The device served.
    pub fn block(&self) -> &B {
        &self.block
    }

    /// Serves the block device to one frontend after another: when the frontend closes (or
    /// restarts), waits for it to connect again and serves it again; returns once the device
    /// is removed (the frontend's directory is gone, or `online` is 0 in the backend's), or
    /// once [`Blkback::stop`] was called and the connection closed.
    pub async fn run(&self) -> Result<(), ServeError> {
        super::serve_connections(&self.platform, &self.paths, &self.stop, || self.serve()).await
    }

    /// Asks [`Blkback::run`] to close the device and return. A connected frontend is told
    /// first (Closing), and every request it has on the ring, or puts there until it has
    /// closed too, is answered with an error: its I/O fails rather than waits for a backend
    /// that is gone. (A frontend that never answers Closing keeps `run` waiting: bound it
    /// with a timeout.)
    pub fn stop(&self) {
        self.stop.set();
    }

    /// Serves the device until the frontend closes it (then returns `Ok`) or breaks the
    /// protocol.
    pub async fn serve(&self) -> Result<(), ServeError> {
        let back = &self.paths.backend;
        let front = &self.paths.frontend;
        let info = self.block.get_info().await;
        let store = &self.platform;
        let features = [
            ("sector-size", info.sector_size.to_string()),
            ("sectors", info.size_sectors.to_string()),
            (
                "info",
                if info.read_write { 0 } else { VDISK_READONLY }.to_string(),
            ),
            ("feature-flush-cache", "1".into()),
            (
                "feature-max-indirect-segments",
                MAX_INDIRECT_SEGMENTS.to_string(),
            ),
            ("feature-barrier", "0".into()),
            // The hypervisor copies each request's data (grant copy): nothing of the
            // frontend's stays mapped, so grants are never persistent.
            ("feature-persistent", "0".into()),
        ];
        let handshake = super::await_frontend(store, &self.paths, &features);
        if super::unless_stopped(&self.stop, handshake)
            .await?
            .is_none()
        {
            return Ok(());
        }
        let key = |node: &'static str| super::frontend_number(store, &self.paths, node);
        let ring_ref = key("ring-ref").await?;
        let channel = key("event-channel").await?;
        match store.read(0, &format!("{front}/protocol")).await {
            Ok(protocol) if !matches!(protocol.trim(), "x86_64-abi" | "native") => {
                return Err(ServeError::Frontend(format!(
                    "protocol {protocol:?} is not x86_64-abi"
                )));
            }
            _ => {}
        }
        let frontend_id = self.paths.frontend_id;
        let page = self.platform.map(frontend_id, ring_ref, true)?;
        let mut ring: BackRing<BlkifRequest, BlkifResponse, _> =
            BackRing::attach(page).map_err(ServeError::Ring)?;
        let port = self.platform.bind_interdomain(frontend_id, channel)?;
        write_state(store, back, XenbusState::Connected).await?;

        let closing = store.watch(&format!("{front}/state")).await?;
        loop {
            // Every request waiting is served at once, so a slow device overlaps them.
            let mut batch = Vec::new();
            while let Some(request) = ring.take_request().map_err(ServeError::Ring)? {
                batch.push(request);
            }
            let statuses =
                futures::future::join_all(batch.iter().map(|request| self.handle(request, &info)))
                    .await;
            for (request, status) in batch.iter().zip(statuses) {
                ring.push_response(BlkifResponse {
                    id: request.id,
                    operation: answered_operation(request),
                    status,
                    ..BlkifResponse::default()
                })
                .map_err(ServeError::Ring)?;
            }
            if ring.push_responses_and_check_notify() {
                port.notify();
            }
            if ring.final_check_for_requests().map_err(ServeError::Ring)? {
                continue;
            }
            // The frontend's state first: a change there (closing) is never starved by
            // events.
            if self.stop.is_set() {
                return self.close_failing_requests(ring, port, &closing).await;
            }
            let changed = {
                let event = core::pin::pin!(port.wait());
                let state = core::pin::pin!(closing.next());
                let stop = core::pin::pin!(self.stop.wait());
                match futures::future::select(state, futures::future::select(event, stop)).await {
                    futures::future::Either::Left((changed, _)) => Some(changed),
                    futures::future::Either::Right(_) => None,
                }
            };
            if let Some(changed) = changed {
                changed?;
                if super::frontend_left(read_state(store, front).await?) {
                    // Unmap and unbind before saying Closed: the frontend ends its grants once
                    // it reads that.
                    drop((ring, port));
                    write_state(store, back, XenbusState::Closing).await?;
                    write_state(store, back, XenbusState::Closed).await?;
                    return Ok(());
                }
            }
        }
    }

    /// Closes the connection because [`Blkback::stop`] was called: says Closing, answers
    /// every request on the ring with an error until the frontend has closed (or gone), then
    /// lets go of the ring and says Closed.
    async fn close_failing_requests<W: Watch>(
        &self,
        mut ring: BackRing<BlkifRequest, BlkifResponse, P::Mapping>,
        port: P::Port,
        closing: &W,
    ) -> Result<(), ServeError> {
        let store = &self.platform;
        let (back, front) = (&self.paths.backend, &self.paths.frontend);
        write_state(store, back, XenbusState::Closing).await?;
        loop {
            while let Some(request) = ring.take_request().map_err(ServeError::Ring)? {
                ring.push_response(BlkifResponse {
                    id: request.id,
                    operation: answered_operation(&request),
                    status: BLKIF_RSP_ERROR,
                    ..BlkifResponse::default()
                })
                .map_err(ServeError::Ring)?;
            }
            if ring.push_responses_and_check_notify() {
                port.notify();
            }
            if super::frontend_left(read_state(store, front).await?) {
                break;
            }
            if ring.final_check_for_requests().map_err(ServeError::Ring)? {
                continue;
            }
            let event = core::pin::pin!(port.wait());
            let state = core::pin::pin!(closing.next());
            if let futures::future::Either::Left((changed, _)) =
                futures::future::select(state, event).await
            {
                changed?;
            }
        }
        drop((ring, port));
        write_state(store, back, XenbusState::Closed).await?;
        Ok(())
    }

    /// Does one request and returns its status.
    async fn handle(&self, request: &BlkifRequest, info: &mirage_types::BlockInfo) -> i16 {
        match request.operation {
            BLKIF_OP_READ | BLKIF_OP_WRITE => {
                let count = usize::from(request.nr_segments);
                if count == 0 || count > BLKIF_MAX_SEGMENTS_PER_REQUEST {
                    return BLKIF_RSP_ERROR;
                }
                let writing = request.operation == BLKIF_OP_WRITE;
                self.transfer(writing, request.sector_number, &request.seg[..count], info)
                    .await
            }
            BLKIF_OP_INDIRECT => self.indirect(request, info).await,
            BLKIF_OP_FLUSH_DISKCACHE | BLKIF_OP_WRITE_BARRIER => match self.block.flush().await {
                Ok(()) => BLKIF_RSP_OKAY,
                Err(_) => BLKIF_RSP_ERROR,
            },
            _ => BLKIF_RSP_EOPNOTSUPP,
        }
    }

    /// An indirect request: its segments are in the frontend's indirect pages.
    async fn indirect(&self, request: &BlkifRequest, info: &mirage_types::BlockInfo) -> i16 {
        let indirect = BlkifRequestIndirect::from_slot(request);
        let count = usize::from(indirect.nr_segments);
        let writing = match indirect.indirect_op {
            BLKIF_OP_READ => false,
            BLKIF_OP_WRITE => true,
            _ => return BLKIF_RSP_ERROR,
        };
        if count == 0 || count > MAX_INDIRECT_SEGMENTS {
            return BLKIF_RSP_ERROR;
        }
        // The segments, 8 bytes each, copied out of the indirect pages in one grant copy.
        let segment_size = core::mem::size_of::<BlkifRequestSegment>();
        let pieces: Vec<GrantPiece> = indirect
            .indirect_grefs
            .iter()
            .take(count.div_ceil(BLKIF_SEGMENTS_PER_INDIRECT_PAGE))
            .enumerate()
            .map(|(page, &gref)| GrantPiece {
                gref,
                offset: 0,
                len: ((count - page * BLKIF_SEGMENTS_PER_INDIRECT_PAGE)
                    .min(BLKIF_SEGMENTS_PER_INDIRECT_PAGE)
                    * segment_size) as u16,
            })
            .collect();
        let mut bytes = vec![0u8; count * segment_size];
        if self
            .platform
            .copy_from_grants(self.paths.frontend_id, &pieces, &mut bytes)
            .is_err()
        {
            return BLKIF_RSP_ERROR;
        }
        let segments: Vec<BlkifRequestSegment> = bytes
            .chunks_exact(segment_size)
            .map(|raw| BlkifRequestSegment {
                gref: u32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]]),
                first_sect: raw[4],
                last_sect: raw[5],
                pad: [raw[6], raw[7]],
            })
            .collect();
        self.transfer(writing, indirect.sector_number, &segments, info)
            .await
    }

    /// A transfer through one buffer, the data copied from or to the frontend's pages by the
    /// hypervisor (one grant-copy call per request on Linux: no mapping, no unmapping).
    async fn copied(
        &self,
        writing: bool,
        start: u64,
        segments: &[BlkifRequestSegment],
        bytes: usize,
    ) -> i16 {
        let pieces: Vec<GrantPiece> = segments
            .iter()
            .map(|s| GrantPiece {
                gref: s.gref,
                offset: u16::from(s.first_sect) * BLKIF_SECTOR_SIZE as u16,
                len: u16::from(s.last_sect - s.first_sect + 1) * BLKIF_SECTOR_SIZE as u16,
            })
            .collect();
        let frontend = self.paths.frontend_id;
        let mut data = vec![0u8; bytes];
        let done = if writing {
            match self.platform.copy_from_grants(frontend, &pieces, &mut data) {
                Ok(()) => self.block.write_at(start, &data).await.is_ok(),
                Err(_) => false,
            }
        } else {
            self.block.read_at(start, &mut data).await.is_ok()
                && self
                    .platform
                    .copy_to_grants(frontend, &data, &pieces)
                    .is_ok()
        };
        if done {
            BLKIF_RSP_OKAY
        } else {
            BLKIF_RSP_ERROR
        }
    }

    async fn transfer(
        &self,
        writing: bool,
        sector_number: u64,
        segments: &[BlkifRequestSegment],
        info: &mirage_types::BlockInfo,
    ) -> i16 {
        if writing && !info.read_write {
            return BLKIF_RSP_ERROR;
        }
        if segments.iter().any(|s| {
            s.first_sect > s.last_sect || usize::from(s.last_sect) >= PAGE_SIZE / BLKIF_SECTOR_SIZE
        }) {
            return BLKIF_RSP_ERROR;
        }
        let bytes: usize = segments
            .iter()
            .map(|s| usize::from(s.last_sect - s.first_sect + 1) * BLKIF_SECTOR_SIZE)
            .sum();
        // The wire counts 512-byte sectors; the device may have larger ones.
        let sector_size = u64::from(info.sector_size);
        let Some(start_byte) = sector_number.checked_mul(BLKIF_SECTOR_SIZE as u64) else {
            return BLKIF_RSP_ERROR;
        };
        if start_byte % sector_size != 0 || !(bytes as u64).is_multiple_of(sector_size) {
            return BLKIF_RSP_ERROR;
        }
        self.copied(writing, start_byte / sector_size, segments, bytes)
            .await
    }
}
