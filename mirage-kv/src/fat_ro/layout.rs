//! Where a FAT volume keeps what, from its boot sector (the BIOS parameter block), checked
//! against itself and the device so that nothing later reads outside the volume.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

/// FAT12, FAT16 or FAT32, by the number of clusters (as the specification decides it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FatKind {
    Fat12,
    Fat16,
    Fat32,
}

/// Where the root directory is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Root {
    /// FAT12/16: a fixed region of `entries` entries at byte `start`.
    Fixed { start: u64, entries: u32 },
    /// FAT32: a cluster chain.
    Chain(u32),
}

/// The volume's geometry, in bytes from the start of the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Layout {
    pub(crate) kind: FatKind,
    /// Where the first FAT starts.
    pub(crate) fat_start: u64,
    /// Bytes of one FAT.
    pub(crate) fat_bytes: u64,
    pub(crate) root: Root,
    /// Where cluster 2 starts.
    pub(crate) data_start: u64,
    pub(crate) cluster_bytes: u64,
    /// Clusters in the data region: valid cluster numbers are 2 ..= clusters + 1.
    pub(crate) clusters: u32,
}

fn u16_at(sector: &[u8], at: usize) -> u64 {
    u64::from(u16::from_le_bytes([sector[at], sector[at + 1]]))
}

fn u32_at(sector: &[u8], at: usize) -> u64 {
    u64::from(u32::from_le_bytes([
        sector[at],
        sector[at + 1],
        sector[at + 2],
        sector[at + 3],
    ]))
}

impl Layout {
    /// Reads the boot sector (its first 512 bytes) of a volume on a device of
    /// `device_bytes`; the error says what is wrong.
    pub(crate) fn parse(boot: &[u8], device_bytes: u64) -> Result<Layout, String> {
        if boot.len() < 512 || boot[510..512] != [0x55, 0xaa] {
            return Err("no boot sector signature (55 aa at byte 510): not a FAT volume".into());
        }
        let sector = u16_at(boot, 11);
        if !(512..=4096).contains(&sector) || !sector.is_power_of_two() {
            return Err(format!(
                "{sector} bytes per sector: not 512, 1024, 2048 or 4096"
            ));
        }
        let per_cluster = u64::from(boot[13]);
        if per_cluster == 0 || !per_cluster.is_power_of_two() {
            return Err(format!(
                "{per_cluster} sectors per cluster: not a power of two"
            ));
        }
        let reserved = u16_at(boot, 14);
        let fats = u64::from(boot[16]);
        if reserved == 0 || fats == 0 {
            return Err("no reserved sectors or no FAT".into());
        }
        let root_entries = u16_at(boot, 17);
        let total = match u16_at(boot, 19) {
            0 => u32_at(boot, 32),
            small => small,
        };
        let fat_sectors = match u16_at(boot, 22) {
            0 => u32_at(boot, 36),
            small => small,
        };
        if fat_sectors == 0 {
            return Err("a FAT of zero sectors".into());
        }
        let root_sectors = (root_entries * 32).div_ceil(sector);
        let data_first = reserved + fats * fat_sectors + root_sectors;
        if total <= data_first {
            return Err(format!(
                "{total} sectors in all, but the data region starts at sector {data_first}"
            ));
        }
        let clusters = (total - data_first) / per_cluster;
        let kind = match clusters {
            0..4085 => FatKind::Fat12,
            4085..65525 => FatKind::Fat16,
            _ => FatKind::Fat32,
        };
        let entry_bits = match kind {
            FatKind::Fat12 => 12,
            FatKind::Fat16 => 16,
            FatKind::Fat32 => 32,
        };
        if (clusters + 2) * entry_bits > fat_sectors * sector * 8 {
            return Err(format!(
                "a FAT of {fat_sectors} sectors cannot hold {clusters} clusters"
            ));
        }
        if total * sector > device_bytes {
            return Err(format!(
                "the volume has {} bytes, the device {device_bytes}",
                total * sector
            ));
        }
        let root = match kind {
            FatKind::Fat32 => {
                let cluster = u32_at(boot, 44);
                if !(2..clusters + 2).contains(&cluster) {
                    return Err(format!(
                        "the root directory's cluster {cluster} is outside the volume"
                    ));
                }
                Root::Chain(cluster as u32)
            }
            _ if root_entries == 0 => return Err("FAT12/16 without root directory entries".into()),
            _ => Root::Fixed {
                start: (reserved + fats * fat_sectors) * sector,
                entries: root_entries as u32,
            },
        };
        Ok(Layout {
            kind,
            fat_start: reserved * sector,
            fat_bytes: fat_sectors * sector,
            root,
            data_start: data_first * sector,
            cluster_bytes: per_cluster * sector,
            clusters: clusters as u32,
        })
    }

    /// Where cluster `cluster` (2 ..= clusters + 1) starts.
    pub(crate) fn cluster_start(&self, cluster: u32) -> u64 {
        self.data_start + u64::from(cluster - 2) * self.cluster_bytes
    }

    /// Whether `cluster` is in the data region.
    pub(crate) fn is_data(&self, cluster: u32) -> bool {
        (2..self.clusters.saturating_add(2)).contains(&cluster)
    }

    /// Where the FAT entry of `cluster` starts, and its width in bytes read (FAT12 entries
    /// straddle bytes: two are read).
    pub(crate) fn entry_at(&self, cluster: u32) -> u64 {
        let cluster = u64::from(cluster);
        self.fat_start
            + match self.kind {
                FatKind::Fat12 => cluster + cluster / 2,
                FatKind::Fat16 => cluster * 2,
                FatKind::Fat32 => cluster * 4,
            }
    }

    /// The next cluster after `cluster` from its entry's bytes (`None`: end of chain).
    pub(crate) fn next(&self, cluster: u32, bytes: [u8; 4]) -> Result<Option<u32>, String> {
        let (value, end, bad) = match self.kind {
            FatKind::Fat12 => {
                let pair = u32::from(u16::from_le_bytes([bytes[0], bytes[1]]));
                let value = if cluster.is_multiple_of(2) {
                    pair & 0xfff
                } else {
                    pair >> 4
                };
                (value, 0xff8, 0xff7)
            }
            FatKind::Fat16 => (
                u32::from(u16::from_le_bytes([bytes[0], bytes[1]])),
                0xfff8,
                0xfff7,
            ),
            FatKind::Fat32 => (
                u32::from_le_bytes(bytes) & 0x0fff_ffff,
                0x0fff_fff8,
                0x0fff_fff7,
            ),
        };
        if value >= end {
            Ok(None)
        } else if value == bad {
            Err(format!("cluster {cluster} is followed by a bad cluster"))
        } else if self.is_data(value) {
            Ok(Some(value))
        } else {
            Err(format!(
                "cluster {cluster} is followed by {value}, outside the volume"
            ))
        }
    }
}
