//! What the boot sector says of the filesystem's extent, checked against the device before
//! `fatfs` is trusted with it.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

use mirage_types::FsError;

/// Where the directory and data region starts, and how large the filesystem says it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Layout {
    /// Byte offset of the first sector after the reserved sectors and the FATs (the FAT12/16
    /// root directory, or the data region): every directory lives at or after it.
    pub(crate) directories_start: u64,
    /// Bytes the boot sector claims (total sectors times sector size).
    pub(crate) claimed_bytes: u64,
}

impl Layout {
    /// Reads the BIOS parameter block of `boot` (the first sector) and checks it fits a
    /// device of `device_bytes`: an image cut short, or smaller than one sector, is refused
    /// here rather than mounted as an empty filesystem.
    pub(crate) fn parse(boot: &[u8], device_bytes: u64) -> Result<Layout, FsError> {
        let corrupt = |why: String| Err(FsError::FormatNotRecognised(why));
        if boot.len() < 512 || device_bytes < 512 {
            return corrupt(format!(
                "a FAT filesystem needs at least one 512-byte sector; the device has {device_bytes} bytes"
            ));
        }
        let u16_at = |at: usize| u64::from(u16::from_le_bytes([boot[at], boot[at + 1]]));
        let u32_at = |at: usize| {
            u64::from(u32::from_le_bytes([
                boot[at],
                boot[at + 1],
                boot[at + 2],
                boot[at + 3],
            ]))
        };
        let sector_size = u16_at(11);
        if !matches!(sector_size, 512 | 1024 | 2048 | 4096) {
            return corrupt(format!(
                "the boot sector gives a sector size of {sector_size}"
            ));
        }
        let reserved = u16_at(14);
        let fats = u64::from(boot[16]);
        let fat_sectors = match u16_at(22) {
            0 => u32_at(36),
            small => small,
        };
        let total_sectors = match u16_at(19) {
            0 => u32_at(32),
            small => small,
        };
        let claimed_bytes = total_sectors * sector_size;
        if claimed_bytes > device_bytes {
            return corrupt(format!(
                "the filesystem claims {claimed_bytes} bytes but the device has {device_bytes}: \
                 the image is truncated"
            ));
        }
        Ok(Layout {
            directories_start: (reserved + fats * fat_sectors) * sector_size,
            claimed_bytes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boot(sector_size: u16, total: u32) -> Vec<u8> {
        let mut boot = vec![0u8; 512];
        boot[11..13].copy_from_slice(&sector_size.to_le_bytes());
        boot[14..16].copy_from_slice(&32u16.to_le_bytes());
        boot[16] = 2;
        boot[36..40].copy_from_slice(&100u32.to_le_bytes());
        boot[32..36].copy_from_slice(&total.to_le_bytes());
        boot
    }

    #[test]
    fn a_truncated_or_tiny_device_is_refused() {
        let layout = Layout::parse(&boot(512, 1000), 512_000).unwrap();
        assert_eq!(layout.directories_start, (32 + 200) * 512);
        assert!(Layout::parse(&boot(512, 1000), 511_999).is_err());
        assert!(Layout::parse(&boot(512, 1000), 100).is_err());
        assert!(Layout::parse(&boot(3, 1000), 512_000).is_err());
    }
}
