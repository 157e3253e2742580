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

use super::grant_maps::GrantMaps;
use crate::abi::PAGE_SIZE;
use crate::abi::blkif::*;
use crate::abi::xenbus::XenbusState;
use crate::platform::{GrantPiece, Platform, Port, Watch, XenError};
use crate::ring::{BackRing, RingError, SharedMemory};
use crate::xenbus::{DevicePaths, read_state, write_state};
use mirage_types::Block;

/// Segments an indirect request may carry, as advertised (256 KiB at most per request).
pub const MAX_INDIRECT_SEGMENTS: usize = 64;

/// Whether Blkback offers persistent grants (`feature-persistent`). Not yet: with them,
/// Linux's blkfront on the real Xen once read back other data than it had written, and
/// the cause is not understood; grants are mapped per request, which is always right.
const OFFERS_PERSISTENT_GRANTS: bool = false;

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
        }
    }

    /// The device served.
    pub fn block(&self) -> &B {
        &self.block
    }

    /// Serves the block device to one frontend after another: when the frontend closes (or
    /// restarts), waits for it to connect again and serves it again; returns once the device
    /// is removed (the frontend's directory is gone, or `online` is 0 in the backend's).
    pub async fn run(&self) -> Result<(), ServeError> {
        super::serve_connections(&self.platform, &self.paths, || self.serve()).await
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
            (
                "feature-persistent",
                u8::from(OFFERS_PERSISTENT_GRANTS).to_string(),
            ),
        ];
        super::await_frontend(store, &self.paths, &features).await?;
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
        // Persistent only when both sides said so: a frontend that was not offered them
        // ends its grants after each response, which a kept mapping would prevent (Linux's
        // blkfront then fails the request: "backend has not unmapped grant").
        let persistent = OFFERS_PERSISTENT_GRANTS
            && store
                .read(0, &format!("{front}/feature-persistent"))
                .await
                .is_ok_and(|value| value.trim() == "1");
        let grants = GrantMaps::new(&self.platform, frontend_id, persistent);
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
            let statuses = futures::future::join_all(
                batch
                    .iter()
                    .map(|request| self.handle(&grants, request, &info)),
            )
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
            let changed = {
                let event = core::pin::pin!(port.wait());
                let state = core::pin::pin!(closing.next());
                match futures::future::select(state, event).await {
                    futures::future::Either::Left((changed, _)) => Some(changed),
                    futures::future::Either::Right(_) => None,
                }
            };
            if let Some(changed) = changed {
                changed?;
                if super::frontend_left(read_state(store, front).await?) {
                    // Unmap and unbind before saying Closed: the frontend ends its grants once
                    // it reads that.
                    drop((ring, port, grants));
                    write_state(store, back, XenbusState::Closing).await?;
                    write_state(store, back, XenbusState::Closed).await?;
                    return Ok(());
                }
            }
        }
    }

    /// Does one request and returns its status.
    async fn handle(
        &self,
        grants: &GrantMaps<'_, P>,
        request: &BlkifRequest,
        info: &mirage_types::BlockInfo,
    ) -> i16 {
        match request.operation {
            BLKIF_OP_READ | BLKIF_OP_WRITE => {
                let count = usize::from(request.nr_segments);
                if count == 0 || count > BLKIF_MAX_SEGMENTS_PER_REQUEST {
                    return BLKIF_RSP_ERROR;
                }
                let writing = request.operation == BLKIF_OP_WRITE;
                self.transfer(
                    grants,
                    writing,
                    request.sector_number,
                    &request.seg[..count],
                    info,
                )
                .await
            }
            BLKIF_OP_INDIRECT => self.indirect(grants, request, info).await,
            BLKIF_OP_FLUSH_DISKCACHE | BLKIF_OP_WRITE_BARRIER => match self.block.flush().await {
                Ok(()) => BLKIF_RSP_OKAY,
                Err(_) => BLKIF_RSP_ERROR,
            },
            _ => BLKIF_RSP_EOPNOTSUPP,
        }
    }

    /// An indirect request: its segments are in the frontend's indirect pages.
    async fn indirect(
        &self,
        grants: &GrantMaps<'_, P>,
        request: &BlkifRequest,
        info: &mirage_types::BlockInfo,
    ) -> i16 {
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
        let mut segments = Vec::with_capacity(count);
        for (page, gref) in indirect
            .indirect_grefs
            .iter()
            .take(count.div_ceil(BLKIF_SEGMENTS_PER_INDIRECT_PAGE))
            .enumerate()
        {
            let Ok(mapping) = grants.map(*gref, false) else {
                return BLKIF_RSP_ERROR;
            };
            let here = (count - page * BLKIF_SEGMENTS_PER_INDIRECT_PAGE)
                .min(BLKIF_SEGMENTS_PER_INDIRECT_PAGE);
            for n in 0..here {
                // SAFETY: the n-th 8-byte segment of a mapped 4 KiB page (n < 512), copied
                // out before it is looked at.
                let segment = unsafe {
                    core::ptr::read_volatile(
                        (mapping.as_ptr() as *const BlkifRequestSegment).add(n),
                    )
                };
                segments.push(segment);
            }
        }
        self.transfer(grants, writing, indirect.sector_number, &segments, info)
            .await
    }

    /// A transfer through one buffer, the data copied from or to the frontend's pages by the
    /// hypervisor (one grant-copy call per request on Linux: no mapping, no unmapping).
    async fn copied(
        &self,
        grants: &GrantMaps<'_, P>,
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
        let mut data = vec![0u8; bytes];
        let done = if writing {
            match grants.copy_from(&pieces, &mut data) {
                Ok(()) => self.block.write_at(start, &data).await.is_ok(),
                Err(_) => false,
            }
        } else {
            self.block.read_at(start, &mut data).await.is_ok()
                && grants.copy_to(&data, &pieces).is_ok()
        };
        if done {
            BLKIF_RSP_OKAY
        } else {
            BLKIF_RSP_ERROR
        }
    }

    async fn transfer(
        &self,
        grants: &GrantMaps<'_, P>,
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
        let start = start_byte / sector_size;
        if !grants.persistent() {
            return self.copied(grants, writing, start, segments, bytes).await;
        }
        let Ok(mappings) = segments
            .iter()
            .map(|s| grants.map(s.gref, !writing))
            .collect::<Result<Vec<_>, _>>()
        else {
            return BLKIF_RSP_ERROR;
        };
        let pieces = || {
            let mut at = 0;
            segments
                .iter()
                .zip(&mappings)
                .map(move |(segment, mapping)| {
                    let within = usize::from(segment.first_sect) * BLKIF_SECTOR_SIZE;
                    let len =
                        usize::from(segment.last_sect - segment.first_sect + 1) * BLKIF_SECTOR_SIZE;
                    let piece = (at, mapping.as_ptr(), within, len);
                    at += len;
                    piece
                })
        };
        // Straight between the device and the guest's pages when every segment is whole
        // device sectors and no page is listed twice (two writable views of one page
        // cannot both be lent out); through one buffer otherwise.
        let mut pages: Vec<*mut u8> = mappings.iter().map(|m| m.as_ptr()).collect();
        pages.sort_unstable();
        pages.dedup();
        let whole = pieces().all(|(_, _, _, len)| (len as u64).is_multiple_of(sector_size));
        if whole && pages.len() == mappings.len() {
            let result = if writing {
                let sources: Vec<&[u8]> = pieces()
                    // SAFETY: mapped pages of the frontend, inside their bounds (checked
                    // above), alive until `mappings` drops.
                    .map(|(_, page, within, len)| unsafe {
                        core::slice::from_raw_parts(page.add(within), len)
                    })
                    .collect();
                self.block.write(start, &sources).await
            } else {
                let mut targets: Vec<&mut [u8]> = pieces()
                    // SAFETY: as above, mapped writable, and no two on one page (checked).
                    .map(|(_, page, within, len)| unsafe {
                        core::slice::from_raw_parts_mut(page.add(within), len)
                    })
                    .collect();
                self.block.read(start, &mut targets).await
            };
            return if result.is_ok() {
                BLKIF_RSP_OKAY
            } else {
                BLKIF_RSP_ERROR
            };
        }
        let mut data = vec![0u8; bytes];
        if writing {
            for (at, page, within, len) in pieces() {
                // SAFETY: a mapped page of the frontend, inside its bounds (checked above).
                let source = unsafe { core::slice::from_raw_parts(page.add(within), len) };
                data[at..at + len].copy_from_slice(source);
            }
            match self.block.write_at(start, &data).await {
                Ok(()) => BLKIF_RSP_OKAY,
                Err(_) => BLKIF_RSP_ERROR,
            }
        } else {
            if self.block.read_at(start, &mut data).await.is_err() {
                return BLKIF_RSP_ERROR;
            }
            for (at, page, within, len) in pieces() {
                // SAFETY: as above, mapped writable.
                let target = unsafe { core::slice::from_raw_parts_mut(page.add(within), len) };
                target.copy_from_slice(&data[at..at + len]);
            }
            BLKIF_RSP_OKAY
        }
    }
}
