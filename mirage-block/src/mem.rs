//! A block device in memory.

#[allow(unused_imports)]
use crate::prelude::*;

use alloc::rc::Rc;
use core::cell::{Cell, RefCell};
use mirage_types::{Block, BlockError, BlockInfo, Device, async_trait, check_request};

/// A block device held in memory: for tests, scratch space, and as the model other backends
/// are compared against. Clones share the same sectors.
#[derive(Clone, Debug)]
pub struct MemBlock {
    inner: Rc<Inner>,
    info: BlockInfo,
}

#[derive(Debug)]
struct Inner {
    data: RefCell<Vec<u8>>,
    disconnected: Cell<bool>,
}

impl MemBlock {
    /// A zeroed, writable device of `size_sectors` sectors of `sector_size` bytes. The sector
    /// size must be a power of two of at least 512 (512 and 4096 are the usual ones).
    pub fn new(sector_size: u32, size_sectors: u64) -> Result<Self, BlockError> {
        let len = checked_len(sector_size, size_sectors)?;
        Ok(Self::from_parts(sector_size, vec![0; len]))
    }

    /// A device holding `data`, which must be a whole number of sectors.
    pub fn from_bytes(sector_size: u32, data: Vec<u8>) -> Result<Self, BlockError> {
        checked_len(sector_size, 0)?;
        if !data.len().is_multiple_of(sector_size as usize) {
            return Err(BlockError::BadBufferLength {
                index: 0,
                len: data.len(),
                sector_size,
            });
        }
        Ok(Self::from_parts(sector_size, data))
    }

    /// The same sectors, seen through a read-only handle: writes through it fail with
    /// [`BlockError::IsReadOnly`].
    pub fn read_only(&self) -> Self {
        MemBlock {
            inner: self.inner.clone(),
            info: BlockInfo {
                read_write: false,
                ..self.info
            },
        }
    }

    /// A copy of the whole device's contents.
    pub fn to_vec(&self) -> Vec<u8> {
        self.inner.data.borrow().clone()
    }

    fn from_parts(sector_size: u32, data: Vec<u8>) -> Self {
        MemBlock {
            info: BlockInfo {
                read_write: true,
                sector_size,
                size_sectors: (data.len() / sector_size as usize) as u64,
            },
            inner: Rc::new(Inner {
                data: RefCell::new(data),
                disconnected: Cell::new(false),
            }),
        }
    }

    fn byte_offset(&self, start_sector: u64) -> usize {
        start_sector as usize * self.info.sector_size as usize
    }

    fn check_connected(&self) -> Result<(), BlockError> {
        if self.inner.disconnected.get() {
            Err(BlockError::Disconnected)
        } else {
            Ok(())
        }
    }
}

fn checked_len(sector_size: u32, size_sectors: u64) -> Result<usize, BlockError> {
    if sector_size < 512 || !sector_size.is_power_of_two() {
        return Err(BlockError::Unknown(format!(
            "sector size {sector_size} is not a power of two of at least 512"
        )));
    }
    size_sectors
        .checked_mul(sector_size.into())
        .and_then(|len| usize::try_from(len).ok())
        .ok_or_else(|| BlockError::Unknown(format!("{size_sectors} sectors do not fit in memory")))
}

#[async_trait(?Send)]
impl Device for MemBlock {
    async fn disconnect(&self) {
        self.inner.disconnected.set(true);
    }
}

#[async_trait(?Send)]
impl Block for MemBlock {
    async fn get_info(&self) -> BlockInfo {
        self.info
    }

    async fn read(&self, start_sector: u64, buffers: &mut [&mut [u8]]) -> Result<(), BlockError> {
        self.check_connected()?;
        check_request(&self.info, start_sector, buffers.iter().map(|b| b.len()))?;
        let data = self.inner.data.borrow();
        let mut at = self.byte_offset(start_sector);
        for buffer in buffers.iter_mut() {
            buffer.copy_from_slice(&data[at..at + buffer.len()]);
            at += buffer.len();
        }
        Ok(())
    }

    async fn write(&self, start_sector: u64, buffers: &[&[u8]]) -> Result<(), BlockError> {
        self.check_connected()?;
        if !self.info.read_write {
            return Err(BlockError::IsReadOnly);
        }
        check_request(&self.info, start_sector, buffers.iter().map(|b| b.len()))?;
        let mut data = self.inner.data.borrow_mut();
        let mut at = self.byte_offset(start_sector);
        for buffer in buffers {
            data[at..at + buffer.len()].copy_from_slice(buffer);
            at += buffer.len();
        }
        Ok(())
    }

    async fn flush(&self) -> Result<(), BlockError> {
        self.check_connected()
    }
}
