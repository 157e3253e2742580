//! Buffers for the frames the stack sends, recycled: a frame's memory goes back to the pool
//! when the link has written it and drops it.
//!
//! Without it every frame was a fresh allocation of up to a jumbo frame, freed a moment later.
//! Under load the allocator then gave the top of its heap back to the system and took it again
//! batch after batch, so each frame also paid for page faults and zeroing pages (a sixth of
//! the time serving a large file over a tap, in the profile; the throughput fell by a third
//! once the allocator's thresholds had moved).

use bytes::Bytes;
use std::sync::{Arc, Mutex};

/// Memory kept for reuse at most, in bytes of buffer capacity: enough for a few polls' worth
/// of frames at any MTU; what a burst needs beyond it is allocated and freed as before.
const POOLED_BYTES: usize = 4 << 20;

/// Free frame buffers, shared with the frames in flight (which the link may drop on any
/// thread).
#[derive(Default)]
pub(crate) struct FramePool {
    free: Mutex<Free>,
}

#[derive(Default)]
struct Free {
    buffers: Vec<Vec<u8>>,
    /// The capacity of `buffers`, summed.
    bytes: usize,
}

impl FramePool {
    /// A zeroed buffer of `len` bytes, reused where one is free.
    pub(crate) fn take(&self, len: usize) -> Vec<u8> {
        let reused = {
            let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
            let buffer = free.buffers.pop();
            if let Some(buffer) = &buffer {
                free.bytes -= buffer.capacity();
            }
            buffer
        };
        let mut buffer = reused.unwrap_or_default();
        buffer.clear();
        buffer.resize(len, 0);
        buffer
    }

    /// `frame` as `Bytes` whose memory returns to this pool when the last handle drops.
    pub(crate) fn seal(self: &Arc<Self>, frame: Vec<u8>) -> Bytes {
        Bytes::from_owner(Pooled {
            frame,
            pool: self.clone(),
        })
    }

    fn give_back(&self, buffer: Vec<u8>) {
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        if free.bytes + buffer.capacity() <= POOLED_BYTES {
            free.bytes += buffer.capacity();
            free.buffers.push(buffer);
        }
    }

    /// Bytes of free buffers held.
    #[cfg(test)]
    fn pooled_bytes(&self) -> usize {
        self.free.lock().unwrap().bytes
    }
}

/// A frame's buffer, owned by its `Bytes`.
struct Pooled {
    frame: Vec<u8>,
    pool: Arc<FramePool>,
}

impl AsRef<[u8]> for Pooled {
    fn as_ref(&self) -> &[u8] {
        &self.frame
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        self.pool.give_back(std::mem::take(&mut self.frame));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dropped_frame_is_reused_zeroed() {
        let pool = Arc::new(FramePool::default());
        let mut first = pool.take(100);
        first.fill(0xab);
        let address = first.as_ptr();
        let sealed = pool.seal(first);
        assert_eq!(&sealed[..], &[0xab; 100][..]);
        drop(sealed);
        let second = pool.take(60);
        assert_eq!(second.as_ptr(), address, "the buffer came back");
        assert_eq!(second, vec![0; 60], "reused buffers are cleared");
    }

    #[test]
    fn the_pool_keeps_no_more_than_its_bound() {
        let pool = Arc::new(FramePool::default());
        let frames: Vec<Bytes> = (0..2 * POOLED_BYTES / 65536)
            .map(|_| pool.seal(pool.take(65536)))
            .collect();
        drop(frames);
        assert!(pool.pooled_bytes() <= POOLED_BYTES);
        assert!(pool.pooled_bytes() >= POOLED_BYTES / 2);
    }

    #[test]
    fn a_clone_of_a_frame_keeps_its_buffer_out_of_the_pool() {
        let pool = Arc::new(FramePool::default());
        let sealed = pool.seal(pool.take(10));
        let kept = sealed.slice(2..);
        drop(sealed);
        assert_eq!(pool.pooled_bytes(), 0);
        assert_eq!(kept.len(), 8);
        drop(kept);
        assert!(pool.pooled_bytes() >= 10);
    }
}
