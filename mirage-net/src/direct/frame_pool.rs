//! Buffers for the frames the stack sends, recycled: a frame's memory is used again once the
//! link has written it and let go of it.
//!
//! Without it every frame was a fresh allocation of up to a jumbo frame, freed a moment later.
//! Under load the allocator then gave the top of its heap back to the system and took it again
//! batch after batch, so each frame also paid for page faults and zeroing pages (a sixth of
//! the time serving a large file over a tap, in the profile; the throughput fell by a third
//! once the allocator's thresholds had moved).
//!
//! The pool keeps a handle on each frame it hands out; a frame whose other handles are all
//! gone (`Bytes::is_unique`) is back. No lock and, once warm, no allocation per frame.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

use alloc::collections::VecDeque;
use bytes::{Bytes, BytesMut};

/// Memory kept for reuse at most, in bytes of buffer capacity (frames out and free ones):
/// about a poll's worth of jumbo frames with a few dozen connections sending. Frames beyond
/// it are allocated and freed as before.
const POOLED_BYTES: usize = 4 << 20;

/// Frames shorter than this are allocated as before: the allocator serves them quickly from
/// memory just freed (hot in the CPU's caches), where cycling them through the pool's
/// megabytes measured 6 % slower in memory at MTU 1500. The pool is for jumbo frames.
const POOLED_FROM_LEN: usize = 4096;

/// The stack's transmit buffers: the frames handed out, oldest first, and the free ones.
#[derive(Default)]
pub(crate) struct FramePool {
    out: VecDeque<Bytes>,
    free: Vec<BytesMut>,
    /// What the pool holds: the lengths of the frames out, the capacities of the free ones.
    bytes: usize,
}

impl FramePool {
    /// A zeroed buffer of `len` bytes, reused where one is free.
    pub(crate) fn take(&mut self, len: usize) -> BytesMut {
        if len < POOLED_FROM_LEN {
            return BytesMut::zeroed(len);
        }
        self.reclaim();
        let mut buffer = match self.free.pop() {
            Some(buffer) => {
                self.bytes -= buffer.capacity();
                buffer
            }
            None => BytesMut::with_capacity(len),
        };
        buffer.clear();
        buffer.resize(len, 0);
        buffer
    }

    /// `frame`, finished, to send; the pool keeps a handle to take it back later.
    pub(crate) fn seal(&mut self, frame: BytesMut) -> Bytes {
        let frame = frame.freeze();
        let capacity = frame.len();
        if capacity >= POOLED_FROM_LEN && self.bytes + capacity <= POOLED_BYTES {
            self.bytes += capacity;
            self.out.push_back(frame.clone());
        }
        frame
    }

    /// Moves the frames the link has finished with, oldest first, to the free list. (Links
    /// let go of frames in the order they were sent; one held longer, by a capture say, holds
    /// up the rest until it goes, and meanwhile new frames are allocated.)
    fn reclaim(&mut self) {
        while self.out.front().is_some_and(Bytes::is_unique) {
            let frame = self.out.pop_front().expect("just seen");
            self.bytes -= frame.len();
            if let Ok(buffer) = frame.try_into_mut() {
                self.bytes += buffer.capacity();
                self.free.push(buffer);
            }
        }
    }

    /// Bytes of buffers held, out and free.
    #[cfg(test)]
    fn pooled_bytes(&self) -> usize {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dropped_frame_is_reused_zeroed() {
        let mut pool = FramePool::default();
        let mut first = pool.take(9014);
        first.fill(0xab);
        let address = first.as_ptr();
        let sealed = pool.seal(first);
        assert_eq!(&sealed[..], &[0xab; 9014][..]);
        drop(sealed);
        let second = pool.take(5000);
        assert_eq!(second.as_ptr(), address, "the buffer came back");
        assert_eq!(&second[..], &[0; 5000][..], "reused buffers are cleared");
    }

    #[test]
    fn the_pool_holds_no_more_than_its_bound() {
        let mut pool = FramePool::default();
        let frames: Vec<Bytes> = (0..2 * POOLED_BYTES / 65536)
            .map(|_| {
                let frame = pool.take(65536);
                pool.seal(frame)
            })
            .collect();
        assert!(pool.pooled_bytes() <= POOLED_BYTES);
        drop(frames);
        let _ = pool.take(10);
        assert!(pool.pooled_bytes() <= POOLED_BYTES);
        assert!(pool.pooled_bytes() >= POOLED_BYTES / 2);
    }

    #[test]
    fn a_frame_still_held_is_not_reused() {
        let mut pool = FramePool::default();
        let first = pool.take(9014);
        let address = first.as_ptr();
        let sealed = pool.seal(first);
        let kept = sealed.slice(2..);
        drop(sealed);
        let second = pool.take(9014);
        assert_ne!(
            second.as_ptr(),
            address,
            "a slice of the frame is still out"
        );
        drop(kept);
        let third = pool.take(9014);
        assert_eq!(third.as_ptr(), address, "back once the last handle went");
        drop(second);
    }

    #[test]
    fn small_frames_are_not_pooled() {
        let mut pool = FramePool::default();
        let frame = pool.take(1514);
        drop(pool.seal(frame));
        assert_eq!(pool.pooled_bytes(), 0);
    }
}
