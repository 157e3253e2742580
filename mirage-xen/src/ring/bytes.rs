//! Byte rings: the console's and the xenstore's, a buffer of power-of-two size with a
//! consumer and a producer index that wrap as `u32`.

#[allow(unused_imports)]
use crate::prelude::*;

use super::{RingError, SharedMemory};
use core::sync::atomic::{AtomicU32, Ordering, fence};

/// Where one byte ring lives inside shared memory.
#[derive(Debug, Clone, Copy)]
pub struct ByteRing {
    /// Offset of the buffer.
    pub data: usize,
    /// Its size (a power of two).
    pub size: usize,
    /// Offset of the consumer index.
    pub cons: usize,
    /// Offset of the producer index.
    pub prod: usize,
}

fn index<M: SharedMemory>(memory: &M, offset: usize) -> &AtomicU32 {
    assert!(offset + 4 <= memory.len() && offset.is_multiple_of(4));
    // SAFETY: an aligned u32 inside the memory (checked), which stays mapped while `memory`
    // lives; the peer changes it only with atomic accesses of its own.
    unsafe { &*(memory.as_ptr().add(offset) as *const AtomicU32) }
}

impl ByteRing {
    /// Bytes written and not yet read, checked: a peer claiming more than the ring holds is
    /// broken or hostile.
    fn pending<M: SharedMemory>(&self, memory: &M) -> Result<(u32, u32), RingError> {
        let cons = index(memory, self.cons).load(Ordering::Acquire);
        let prod = index(memory, self.prod).load(Ordering::Acquire);
        if prod.wrapping_sub(cons) as usize > self.size {
            return Err(RingError::PeerOverflow {
                published: prod,
                consumed: cons,
                size: self.size as u32,
            });
        }
        Ok((cons, prod))
    }

    /// Bytes written and not yet read by the consumer.
    pub fn unread<M: SharedMemory>(&self, memory: &M) -> Result<usize, RingError> {
        let (cons, prod) = self.pending(memory)?;
        Ok(prod.wrapping_sub(cons) as usize)
    }

    /// As the producer: copies as much of `data` as fits, publishes it, and returns how much.
    pub fn write<M: SharedMemory>(&self, memory: &M, data: &[u8]) -> Result<usize, RingError> {
        let (cons, prod) = self.pending(memory)?;
        let room = self.size - prod.wrapping_sub(cons) as usize;
        let count = room.min(data.len());
        for (i, byte) in data[..count].iter().enumerate() {
            let at = self.data + (prod.wrapping_add(i as u32) as usize & (self.size - 1));
            // SAFETY: inside the buffer, which is inside the memory.
            unsafe { memory.as_ptr().add(at).write_volatile(*byte) };
        }
        fence(Ordering::Release);
        index(memory, self.prod).store(prod.wrapping_add(count as u32), Ordering::Release);
        Ok(count)
    }

    /// As the consumer: takes every byte waiting (appended to `out`), and returns how many.
    pub fn read<M: SharedMemory>(&self, memory: &M, out: &mut Vec<u8>) -> Result<usize, RingError> {
        let (cons, prod) = self.pending(memory)?;
        let count = prod.wrapping_sub(cons) as usize;
        for i in 0..count {
            let at = self.data + (cons.wrapping_add(i as u32) as usize & (self.size - 1));
            // SAFETY: inside the buffer, which is inside the memory.
            out.push(unsafe { memory.as_ptr().add(at).read_volatile() });
        }
        fence(Ordering::AcqRel);
        index(memory, self.cons).store(prod, Ordering::Release);
        Ok(count)
    }
}
