//! The header of a shared request/response ring (`io/ring.h`'s `struct *_sring`).

#[allow(unused_imports)]
use crate::prelude::*;

/// The 64 bytes before the first slot of every shared ring.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SringHeader {
    /// The frontend's published request producer index.
    pub req_prod: u32,
    /// Where the backend wants to be notified of new requests.
    pub req_event: u32,
    /// The backend's published response producer index.
    pub rsp_prod: u32,
    /// Where the frontend wants to be notified of new responses.
    pub rsp_event: u32,
    /// Private bytes some protocols use (netif's `smartpoll_active`).
    pub pvt: [u8; 4],
    /// Padding to 64 bytes.
    pub pad: [u8; 44],
}

/// Offset of the first slot.
pub const SRING_HEADER_SIZE: usize = 64;

const _: () = assert!(core::mem::size_of::<SringHeader>() == SRING_HEADER_SIZE);

/// How many slots of `entry_size` bytes a ring of `bytes` holds: the largest power of two
/// that fits after the header (ring.h's `__RING_SIZE`).
pub const fn ring_size(bytes: usize, entry_size: usize) -> usize {
    if bytes <= SRING_HEADER_SIZE || entry_size == 0 {
        return 0;
    }
    let fit = (bytes - SRING_HEADER_SIZE) / entry_size;
    if fit == 0 {
        0
    } else {
        1 << (usize::BITS - 1 - fit.leading_zeros())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_sizes_match_the_headers() {
        assert_eq!(ring_size(4096, 112), 32); // blkif
        assert_eq!(ring_size(8192, 112), 64);
        assert_eq!(ring_size(4096, 12), 256); // netif tx
        assert_eq!(ring_size(4096, 8), 256); // netif rx
        assert_eq!(ring_size(64, 8), 0);
        assert_eq!(ring_size(4096, 0), 0);
    }
}
