//! Xen's wire formats, laid out exactly as its C headers lay them out on x86-64 (checked
//! against the headers themselves in `tests/c_headers.rs`). Plain data: no I/O, no runtime.

#[allow(unused_imports)]
use crate::prelude::*;

pub mod blkif;
pub mod console;
pub mod grant;
pub mod netif;
pub mod sring;
pub mod xenbus;
pub mod xs_wire;

/// The size of a Xen page (ring pages, grants): always 4 KiB.
pub const PAGE_SIZE: usize = 4096;

/// A grant reference: the index of an entry in the granting domain's grant table.
pub type GrantRef = u32;

/// A domain id.
pub type DomId = u16;
