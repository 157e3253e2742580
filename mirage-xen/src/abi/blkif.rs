//! The block device protocol (`io/blkif.h`), x86-64 ABI.

#[allow(unused_imports)]
use crate::prelude::*;

use super::GrantRef;

/// Read sectors.
pub const BLKIF_OP_READ: u8 = 0;
/// Write sectors.
pub const BLKIF_OP_WRITE: u8 = 1;
/// Write, ordered after every earlier write (a barrier).
pub const BLKIF_OP_WRITE_BARRIER: u8 = 2;
/// Flush the disk's write cache.
pub const BLKIF_OP_FLUSH_DISKCACHE: u8 = 3;
/// Discard sectors.
pub const BLKIF_OP_DISCARD: u8 = 5;
/// A request whose segments are in indirect pages.
pub const BLKIF_OP_INDIRECT: u8 = 6;

/// The request succeeded.
pub const BLKIF_RSP_OKAY: i16 = 0;
/// The request failed.
pub const BLKIF_RSP_ERROR: i16 = -1;
/// The backend does not do this operation.
pub const BLKIF_RSP_EOPNOTSUPP: i16 = -2;

/// Segments in a direct request.
pub const BLKIF_MAX_SEGMENTS_PER_REQUEST: usize = 11;
/// Indirect pages in an indirect request.
pub const BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST: usize = 8;
/// Segments one indirect page holds.
pub const BLKIF_SEGMENTS_PER_INDIRECT_PAGE: usize = 4096 / 8;
/// The unit of `sector_number`, `first_sect` and `last_sect`.
pub const BLKIF_SECTOR_SIZE: usize = 512;

/// `info` bit: a CD-ROM.
pub const VDISK_CDROM: u32 = 0x1;
/// `info` bit: removable media.
pub const VDISK_REMOVABLE: u32 = 0x2;
/// `info` bit: read-only.
pub const VDISK_READONLY: u32 = 0x4;

/// One page of a transfer: a grant and the 512-byte sectors used within it (inclusive).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BlkifRequestSegment {
    /// The granted page.
    pub gref: GrantRef,
    /// First sector used within the page (0..=7).
    pub first_sect: u8,
    /// Last sector used within the page (first..=7).
    pub last_sect: u8,
    /// Padding.
    pub pad: [u8; 2],
}

/// A read, write, barrier or flush request.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BlkifRequest {
    /// `BLKIF_OP_*`.
    pub operation: u8,
    /// Segments used (at most 11).
    pub nr_segments: u8,
    /// The device handle.
    pub handle: u16,
    /// Padding.
    pub pad: u32,
    /// Echoed in the response.
    pub id: u64,
    /// First 512-byte sector.
    pub sector_number: u64,
    /// The pages.
    pub seg: [BlkifRequestSegment; BLKIF_MAX_SEGMENTS_PER_REQUEST],
}

/// A discard request (same slot as [`BlkifRequest`]).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BlkifRequestDiscard {
    /// `BLKIF_OP_DISCARD`.
    pub operation: u8,
    /// `BLKIF_DISCARD_SECURE` or 0.
    pub flag: u8,
    /// The device handle.
    pub handle: u16,
    /// Padding.
    pub pad: u32,
    /// Echoed in the response.
    pub id: u64,
    /// First 512-byte sector.
    pub sector_number: u64,
    /// How many 512-byte sectors.
    pub nr_sectors: u64,
}

/// A request whose segments are listed in up to eight granted indirect pages.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BlkifRequestIndirect {
    /// `BLKIF_OP_INDIRECT`.
    pub operation: u8,
    /// The real operation: read or write.
    pub indirect_op: u8,
    /// Segments in all, across the indirect pages.
    pub nr_segments: u16,
    /// Padding.
    pub pad: u32,
    /// Echoed in the response.
    pub id: u64,
    /// First 512-byte sector.
    pub sector_number: u64,
    /// The device handle.
    pub handle: u16,
    /// Padding.
    pub pad2: u16,
    /// The indirect pages.
    pub indirect_grefs: [GrantRef; BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST],
    /// Padding to the slot's alignment.
    pub pad3: u32,
}

/// The answer to a request.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BlkifResponse {
    /// The request's id.
    pub id: u64,
    /// The request's operation.
    pub operation: u8,
    /// Padding.
    pub pad: u8,
    /// `BLKIF_RSP_*`.
    pub status: i16,
    /// Padding.
    pub pad2: u32,
}

const _: () = assert!(core::mem::size_of::<BlkifRequestSegment>() == 8);
const _: () = assert!(core::mem::size_of::<BlkifRequest>() == 112);
const _: () = assert!(core::mem::size_of::<BlkifRequestDiscard>() == 32);
const _: () = assert!(core::mem::size_of::<BlkifRequestIndirect>() == 64);
const _: () = assert!(core::mem::size_of::<BlkifResponse>() == 16);

impl BlkifRequestIndirect {
    /// The indirect request a ring slot holds (the slot's first 64 bytes).
    pub fn from_slot(slot: &BlkifRequest) -> Self {
        // SAFETY: both are `#[repr(C)]` plain integers; the slot is larger than the indirect
        // request, whose every bit pattern is valid.
        unsafe { core::ptr::read_unaligned((slot as *const BlkifRequest).cast()) }
    }

    /// This request in a ring slot (the rest of the slot zeroed).
    pub fn to_slot(&self) -> BlkifRequest {
        let mut slot = BlkifRequest::default();
        // SAFETY: as above; the slot has room for the indirect request's 64 bytes.
        unsafe {
            core::ptr::write_unaligned((&mut slot as *mut BlkifRequest).cast(), *self);
        }
        slot
    }
}
