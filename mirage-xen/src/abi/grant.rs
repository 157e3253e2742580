//! Grant table entries (version 1, `grant_table.h`).

#[allow(unused_imports)]
use crate::prelude::*;

/// The peer may map or copy the frame.
pub const GTF_PERMIT_ACCESS: u16 = 1;
/// The peer may transfer a frame here.
pub const GTF_ACCEPT_TRANSFER: u16 = 2;
/// The peer may only read.
pub const GTF_READONLY: u16 = 4;
/// Set by Xen while the peer reads.
pub const GTF_READING: u16 = 8;
/// Set by Xen while the peer writes.
pub const GTF_WRITING: u16 = 16;
/// Grant references 0..8 are reserved (0: console, 1: xenstore).
pub const GNTTAB_NR_RESERVED_ENTRIES: u32 = 8;

/// `grant_entry_v1_t`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GrantEntryV1 {
    /// `GTF_*`, written last when granting.
    pub flags: u16,
    /// The domain given access.
    pub domid: u16,
    /// The frame.
    pub frame: u32,
}

const _: () = assert!(core::mem::size_of::<GrantEntryV1>() == 8);
