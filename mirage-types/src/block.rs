//! V1 `BLOCK`: a device of fixed-size sectors.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

#[cfg(feature = "std")]
use crate::IoError;
use crate::{Device, ErrorKind};
use async_trait::async_trait;
use thiserror::Error;

/// V1 `BLOCK.info`: what a block device is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BlockInfo {
    /// Whether writes are allowed.
    pub read_write: bool,
    /// Bytes per sector (512 or 4096 in practice).
    pub sector_size: u32,
    /// Number of addressable sectors.
    pub size_sectors: u64,
}

impl BlockInfo {
    /// The device's size in bytes (`sector_size * size_sectors`, saturating).
    pub fn size_bytes(&self) -> u64 {
        self.size_sectors
            .saturating_mul(u64::from(self.sector_size))
    }
}

/// Errors of a block device. V1's four variants, plus the precise ones V1 folded into
/// `Unknown "..."`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum BlockError {
    /// V1 `Unknown`: any other failure, described.
    #[error("block device error: {0}")]
    Unknown(String),
    /// V1 `Unimplemented`: the device cannot do this operation.
    #[error("operation not implemented by this block device")]
    Unimplemented,
    /// V1 `Is_read_only`: a write to a read-only device.
    #[error("block device is read-only")]
    IsReadOnly,
    /// V1 `Disconnected`: the device was disconnected.
    #[error("block device is disconnected")]
    Disconnected,
    /// The request reaches past the last sector (or `start + sectors` overflows).
    #[error("sectors {start}..{start}+{sectors} are out of range for a device of {size} sectors")]
    OutOfRange {
        /// First sector requested.
        start: u64,
        /// Number of sectors requested.
        sectors: u64,
        /// Number of sectors on the device.
        size: u64,
    },
    /// A buffer's length is not a whole, non-zero number of sectors.
    #[error("buffer {index} has length {len}, not a multiple of the sector size {sector_size}")]
    BadBufferLength {
        /// Position of the buffer in the request.
        index: usize,
        /// Its length in bytes.
        len: usize,
        /// The device's sector size.
        sector_size: u32,
    },
    /// A buffer's address does not meet the device's alignment (direct I/O).
    #[error("buffer {index} is not aligned to {alignment} bytes")]
    Misaligned {
        /// Position of the buffer in the request.
        index: usize,
        /// The alignment the device needs.
        alignment: usize,
    },
    /// The device did not answer in time (a remote backend, say).
    #[error("block device did not answer within {0:?}")]
    Timeout(core::time::Duration),
    /// The operating system reported an error (opening the device, or a transfer); its
    /// [`std::io::ErrorKind`] and the error itself (as `source()`) are kept.
    #[cfg(feature = "std")]
    #[error("block I/O failed: {0}")]
    Io(#[source] IoError),
}

impl BlockError {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            BlockError::Unknown(_) => ErrorKind::Other,
            BlockError::Unimplemented => ErrorKind::Unimplemented,
            BlockError::IsReadOnly => ErrorKind::ReadOnly,
            BlockError::Disconnected => ErrorKind::Disconnected,
            BlockError::OutOfRange { .. } => ErrorKind::OutOfRange,
            BlockError::BadBufferLength { .. } | BlockError::Misaligned { .. } => {
                ErrorKind::InvalidInput
            }
            BlockError::Timeout(_) => ErrorKind::Timeout,
            #[cfg(feature = "std")]
            BlockError::Io(error) => error.kind(),
        }
    }
}

#[cfg(feature = "std")]
impl From<IoError> for BlockError {
    fn from(error: IoError) -> Self {
        BlockError::Io(error)
    }
}

/// V1 `BLOCK`: reads and writes whole sectors.
///
/// A request names a start sector and a list of buffers, each a whole number of sectors,
/// transferred back to back. Backends validate the whole request before moving any byte.
///
/// ```
/// use mirage_types::{Block, BlockError};
///
/// /// Copies every sector of `source` to `destination`, a megabyte at a time.
/// async fn copy<S: Block, D: Block>(source: &S, destination: &D) -> Result<(), BlockError> {
///     let info = source.get_info().await;
///     if destination.get_info().await.size_bytes() < info.size_bytes() {
///         return Err(BlockError::Unknown("the destination is smaller".into()));
///     }
///     let per_chunk = (1 << 20) / u64::from(info.sector_size);
///     let mut buffer = vec![0; (per_chunk * u64::from(info.sector_size)) as usize];
///     let mut sector = 0;
///     while sector < info.size_sectors {
///         let count = per_chunk.min(info.size_sectors - sector);
///         let chunk = &mut buffer[..(count * u64::from(info.sector_size)) as usize];
///         source.read_at(sector, chunk).await?;
///         destination.write_at(sector, chunk).await?;
///         sector += count;
///     }
///     destination.flush().await
/// }
/// ```
#[async_trait(?Send)]
pub trait Block: Device {
    /// V1 `get_info`: sector size, size and writability. Cannot fail.
    async fn get_info(&self) -> BlockInfo;

    /// V1 `read`: fills `buffers` from consecutive sectors starting at `start_sector`.
    async fn read(&self, start_sector: u64, buffers: &mut [&mut [u8]]) -> Result<(), BlockError>;

    /// V1 `write`: writes `buffers` to consecutive sectors starting at `start_sector`. On
    /// success the data has reached the operating system; [`Block::flush`] makes it durable.
    async fn write(&self, start_sector: u64, buffers: &[&[u8]]) -> Result<(), BlockError>;

    /// Reads into one buffer (a whole number of sectors) from `start_sector`: [`Block::read`]
    /// with a single buffer.
    async fn read_at(&self, start_sector: u64, buffer: &mut [u8]) -> Result<(), BlockError> {
        self.read(start_sector, &mut [buffer]).await
    }

    /// Writes one buffer (a whole number of sectors) at `start_sector`: [`Block::write`] with
    /// a single buffer.
    async fn write_at(&self, start_sector: u64, buffer: &[u8]) -> Result<(), BlockError> {
        self.write(start_sector, &[buffer]).await
    }

    /// Makes every completed write durable (a write barrier). Devices without a cache
    /// return at once.
    async fn flush(&self) -> Result<(), BlockError> {
        Ok(())
    }
}

/// Checks a request against a device: every buffer a non-zero whole number of sectors and the
/// whole range inside the device. Returns the number of sectors the request covers.
///
/// Backends call this before transferring anything, so that a bad request moves no byte.
pub fn check_request(
    info: &BlockInfo,
    start_sector: u64,
    buffer_lens: impl IntoIterator<Item = usize>,
) -> Result<u64, BlockError> {
    let sector_size = info.sector_size as usize;
    let mut sectors: u64 = 0;
    for (index, len) in buffer_lens.into_iter().enumerate() {
        if len == 0 || len % sector_size != 0 {
            return Err(BlockError::BadBufferLength {
                index,
                len,
                sector_size: info.sector_size,
            });
        }
        sectors = sectors.saturating_add((len / sector_size) as u64);
    }
    match start_sector.checked_add(sectors) {
        Some(end) if end <= info.size_sectors => Ok(sectors),
        _ => Err(BlockError::OutOfRange {
            start: start_sector,
            sectors,
            size: info.size_sectors,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INFO: BlockInfo = BlockInfo {
        read_write: true,
        sector_size: 512,
        size_sectors: 100,
    };

    #[test]
    fn requests_inside_the_device_pass() {
        assert_eq!(check_request(&INFO, 0, [512, 1024]), Ok(3));
        assert_eq!(check_request(&INFO, 99, [512]), Ok(1));
        assert_eq!(check_request(&INFO, 100, []), Ok(0));
    }

    #[test]
    fn bad_requests_are_named() {
        assert_eq!(
            check_request(&INFO, 100, [512]),
            Err(BlockError::OutOfRange {
                start: 100,
                sectors: 1,
                size: 100
            })
        );
        assert!(matches!(
            check_request(&INFO, u64::MAX, [512]),
            Err(BlockError::OutOfRange { .. })
        ));
        assert_eq!(
            check_request(&INFO, 0, [512, 100]),
            Err(BlockError::BadBufferLength {
                index: 1,
                len: 100,
                sector_size: 512
            })
        );
        assert!(check_request(&INFO, 0, [0]).is_err());
    }
}
