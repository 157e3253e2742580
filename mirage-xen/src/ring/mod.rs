//! Shared request/response rings with `io/ring.h`'s exact semantics, generic over the
//! request and response types.
//!
//! A ring lives in memory shared with another domain, which may be hostile. So indices are
//! `u32` and wrap; every index the peer publishes is checked before it is believed (a
//! producer may never be more than a ring ahead of what it was given); a slot is copied out
//! with one volatile read before any field of it is looked at; and notification follows
//! ring.h's push-and-check and final-check protocol, so that neither side misses a kick nor
//! sends needless ones.

#[allow(unused_imports)]
use crate::prelude::*;

mod back;
mod bytes;
mod front;
mod memory;

pub use back::BackRing;
pub use bytes::ByteRing;
pub use front::FrontRing;
pub use memory::{OwnedPage, SharedMemory};

use crate::abi::sring::{SRING_HEADER_SIZE, ring_size};
use core::fmt;
use core::marker::PhantomData;
use core::sync::atomic::{AtomicU32, Ordering};

/// A type that may travel in a ring slot: plain data, valid for any bit pattern, since a peer
/// may write anything.
///
/// # Safety
///
/// Implement only for `#[repr(C)]` types made of integers (and arrays of them), with no
/// padding whose value matters.
pub unsafe trait RingEntry: Copy {}

// SAFETY: each is `#[repr(C)]` and made of integers only.
unsafe impl RingEntry for crate::abi::blkif::BlkifRequest {}
unsafe impl RingEntry for crate::abi::blkif::BlkifResponse {}
unsafe impl RingEntry for crate::abi::netif::NetifTxRequest {}
unsafe impl RingEntry for crate::abi::netif::NetifTxResponse {}
unsafe impl RingEntry for crate::abi::netif::NetifRxRequest {}
unsafe impl RingEntry for crate::abi::netif::NetifRxResponse {}

/// Why a ring operation could not be done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RingError {
    /// The memory is too small to hold one slot after the header.
    TooSmall {
        /// Bytes given.
        bytes: usize,
    },
    /// The memory does not start on a 64-byte boundary (a page always does).
    Misaligned,
    /// No free slot for another request (wait for responses).
    Full,
    /// The peer published an index that cannot be right: more entries than the ring holds,
    /// or answers to requests never made. The peer is broken or hostile.
    PeerOverflow {
        /// The index the peer published.
        published: u32,
        /// Where this side had got to.
        consumed: u32,
        /// Slots in the ring.
        size: u32,
    },
    /// A response with no request taken to answer.
    NothingToAnswer,
}

impl fmt::Display for RingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RingError::TooSmall { bytes } => write!(f, "{bytes} bytes cannot hold a ring"),
            RingError::Misaligned => write!(f, "ring memory must be 64-byte aligned"),
            RingError::Full => write!(f, "the ring is full"),
            RingError::PeerOverflow {
                published,
                consumed,
                size,
            } => write!(
                f,
                "the peer published index {published} with {consumed} consumed on a ring of \
                 {size}: it is broken or hostile"
            ),
            RingError::NothingToAnswer => write!(f, "no request is waiting for this response"),
        }
    }
}

impl core::error::Error for RingError {}

/// Byte offsets of the four shared indices in the header.
const REQ_PROD: usize = 0;
const REQ_EVENT: usize = 4;
const RSP_PROD: usize = 8;
const RSP_EVENT: usize = 12;

/// The shared part of a ring: the memory, and the layout of its slots.
struct Shared<Req, Rsp, M> {
    memory: M,
    /// Slots (a power of two).
    size: u32,
    /// Bytes per slot: the C union of request and response.
    entry: usize,
    types: PhantomData<(Req, Rsp)>,
}

impl<Req: RingEntry, Rsp: RingEntry, M: SharedMemory> Shared<Req, Rsp, M> {
    fn new(memory: M) -> Result<Self, RingError> {
        let align = core::mem::align_of::<Req>().max(core::mem::align_of::<Rsp>());
        let entry = core::mem::size_of::<Req>()
            .max(core::mem::size_of::<Rsp>())
            .next_multiple_of(align);
        let bytes = memory.len();
        let size = ring_size(bytes, entry);
        if size == 0 {
            return Err(RingError::TooSmall { bytes });
        }
        if !(memory.as_ptr() as usize).is_multiple_of(64) {
            return Err(RingError::Misaligned);
        }
        Ok(Shared {
            memory,
            size: size as u32,
            entry,
            types: PhantomData,
        })
    }

    fn index(&self, offset: usize) -> &AtomicU32 {
        // SAFETY: the header's first 16 bytes are four aligned u32s inside the memory, which
        // `SharedMemory` keeps mapped while `self.memory` lives; the peer changes them only
        // through atomic accesses of its own.
        unsafe { &*(self.memory.as_ptr().add(offset) as *const AtomicU32) }
    }

    fn load(&self, offset: usize) -> u32 {
        self.index(offset).load(Ordering::Acquire)
    }

    fn store(&self, offset: usize, value: u32) {
        self.index(offset).store(value, Ordering::Release)
    }

    fn slot(&self, index: u32) -> *mut u8 {
        let at = SRING_HEADER_SIZE + (index & (self.size - 1)) as usize * self.entry;
        // SAFETY: `at + entry` is within the memory: `size` slots fit after the header.
        unsafe { self.memory.as_ptr().add(at) }
    }

    fn write<T: RingEntry>(&self, index: u32, value: T) {
        // SAFETY: the slot is inside the memory and aligned for `T` (slots are multiples of
        // both types' alignment after a 64-byte header in 64-byte-aligned memory).
        unsafe { core::ptr::write_volatile(self.slot(index) as *mut T, value) }
    }

    /// Copies a slot out in one volatile read: what is then checked is what is used, whatever
    /// the peer writes meanwhile.
    fn read<T: RingEntry>(&self, index: u32) -> T {
        // SAFETY: as in `write`; any bit pattern is a valid `T` (`RingEntry`).
        unsafe { core::ptr::read_volatile(self.slot(index) as *const T) }
    }

    /// Zeroes the header and sets the event indices to 1 (`SHARED_RING_INIT`).
    fn init(&self) {
        // SAFETY: the header is the first 64 bytes of the memory.
        unsafe { core::ptr::write_bytes(self.memory.as_ptr(), 0, SRING_HEADER_SIZE) };
        self.store(REQ_EVENT, 1);
        self.store(RSP_EVENT, 1);
        core::sync::atomic::fence(Ordering::SeqCst);
    }
}

/// ring.h's notification test: whether `event` (the peer's "kick me at") lies in
/// `(old, new]`, in wrapping arithmetic.
fn crosses(new: u32, old: u32, event: u32) -> bool {
    new.wrapping_sub(event) < new.wrapping_sub(old)
}

#[cfg(test)]
mod tests;
