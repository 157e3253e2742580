//! The network device protocol (`io/netif.h`).

#[allow(unused_imports)]
use crate::prelude::*;

use super::GrantRef;

/// TX flag: the checksum is blank (to be filled in).
pub const NETTXF_CSUM_BLANK: u16 = 1;
/// TX flag: the data was validated.
pub const NETTXF_DATA_VALIDATED: u16 = 2;
/// TX flag: more fragments follow.
pub const NETTXF_MORE_DATA: u16 = 4;
/// TX flag: extra-info slots follow.
pub const NETTXF_EXTRA_INFO: u16 = 8;
/// RX flag: the data was validated.
pub const NETRXF_DATA_VALIDATED: u16 = 1;
/// RX flag: the checksum is blank.
pub const NETRXF_CSUM_BLANK: u16 = 2;
/// RX flag: more fragments follow.
pub const NETRXF_MORE_DATA: u16 = 4;
/// RX flag: extra-info slots follow.
pub const NETRXF_EXTRA_INFO: u16 = 8;
/// RX flag: a GSO prefix slot.
pub const NETRXF_GSO_PREFIX: u16 = 16;

/// Response status: dropped.
pub const NETIF_RSP_DROPPED: i16 = -2;
/// Response status: failed.
pub const NETIF_RSP_ERROR: i16 = -1;
/// Response status: done.
pub const NETIF_RSP_OKAY: i16 = 0;
/// Response status: a null response (for an extra-info slot).
pub const NETIF_RSP_NULL: i16 = 1;

/// Extra-info type: none.
pub const XEN_NETIF_EXTRA_TYPE_NONE: u8 = 0;
/// Extra-info type: segmentation offload.
pub const XEN_NETIF_EXTRA_TYPE_GSO: u8 = 1;
/// Extra-info flag: another extra-info slot follows.
pub const XEN_NETIF_EXTRA_FLAG_MORE: u8 = 1;

/// The fewest slots a backend must accept for one packet.
pub const XEN_NETIF_NR_SLOTS_MIN: usize = 18;
/// The largest packet.
pub const XEN_NETIF_MAX_TX_SIZE: usize = 0xFFFF;

/// A fragment of a packet to send.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NetifTxRequest {
    /// The granted page holding the fragment.
    pub gref: GrantRef,
    /// Where in the page it starts.
    pub offset: u16,
    /// `NETTXF_*`.
    pub flags: u16,
    /// Echoed in the response.
    pub id: u16,
    /// The whole packet's length in the first fragment, the fragment's in others.
    pub size: u16,
}

/// The answer to a TX request.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NetifTxResponse {
    /// The request's id.
    pub id: u16,
    /// `NETIF_RSP_*`.
    pub status: i16,
}

/// An empty page posted for the backend to fill with a received fragment.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NetifRxRequest {
    /// Echoed in the response.
    pub id: u16,
    /// Padding.
    pub pad: u16,
    /// The granted page.
    pub gref: GrantRef,
}

/// A received fragment.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NetifRxResponse {
    /// The request's id.
    pub id: u16,
    /// Where in the page the data starts.
    pub offset: u16,
    /// `NETRXF_*`.
    pub flags: u16,
    /// Bytes received, or a negative `NETIF_RSP_*`.
    pub status: i16,
}

/// An extra-info slot (segmentation offload, multicast, hash).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NetifExtraInfo {
    /// `XEN_NETIF_EXTRA_TYPE_*`.
    pub kind: u8,
    /// `XEN_NETIF_EXTRA_FLAG_*`.
    pub flags: u8,
    /// The type's data.
    pub data: [u8; 6],
}

const _: () = assert!(core::mem::size_of::<NetifTxRequest>() == 12);
const _: () = assert!(core::mem::size_of::<NetifTxResponse>() == 4);
const _: () = assert!(core::mem::size_of::<NetifRxRequest>() == 8);
const _: () = assert!(core::mem::size_of::<NetifRxResponse>() == 8);
const _: () = assert!(core::mem::size_of::<NetifExtraInfo>() == 8);
