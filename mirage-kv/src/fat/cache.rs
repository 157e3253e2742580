//! The sectors of a FAT volume held in memory: metadata read so far, and writes not yet on
//! the device.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

use std::collections::{BTreeSet, HashMap};
use std::hash::{BuildHasherDefault, Hasher};

/// Hashes sector numbers by Fibonacci multiplication: a lookup costs a multiply, not SipHash
/// (sector numbers come from the device's own structures, and a slow lookup only slows, never
/// breaks, an operation).
#[derive(Default)]
pub(crate) struct SectorHasher(u64);

impl Hasher for SectorHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(byte)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u64(&mut self, sector: u64) {
        self.0 = sector.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// A map keyed by sector number.
pub(crate) type SectorMap<V> = HashMap<u64, V, BuildHasherDefault<SectorHasher>>;

/// Sectors by number. Dirty sectors are never evicted before they are written back.
pub(crate) struct SectorCache {
    sectors: SectorMap<Box<[u8]>>,
    dirty: BTreeSet<u64>,
    capacity: usize,
}

impl SectorCache {
    /// A cache that keeps about `capacity` clean sectors between operations.
    pub(crate) fn new(capacity: usize) -> Self {
        SectorCache {
            sectors: SectorMap::default(),
            dirty: BTreeSet::new(),
            capacity,
        }
    }

    pub(crate) fn get(&self, sector: u64) -> Option<&[u8]> {
        self.sectors.get(&sector).map(|s| &**s)
    }

    pub(crate) fn contains(&self, sector: u64) -> bool {
        self.sectors.contains_key(&sector)
    }

    /// Adds a sector read from the device, unless a newer copy is already here.
    pub(crate) fn insert_clean(&mut self, sector: u64, data: Box<[u8]>) {
        self.sectors.entry(sector).or_insert(data);
    }

    /// Whether some sector here is newer than the device's copy.
    pub(crate) fn has_dirty(&self) -> bool {
        !self.dirty.is_empty()
    }

    /// Takes in sectors an operation wrote: they are dirty until written back.
    pub(crate) fn commit(&mut self, written: SectorMap<Box<[u8]>>) {
        for (sector, data) in written {
            self.dirty.insert(sector);
            self.sectors.insert(sector, data);
        }
    }

    /// Runs of consecutive dirty sectors with copies of their data, marking them clean.
    pub(crate) fn take_dirty_runs(&mut self) -> Vec<(u64, Vec<u8>)> {
        let mut runs: Vec<(u64, Vec<u8>)> = Vec::new();
        let mut next = None;
        for sector in std::mem::take(&mut self.dirty) {
            let data = &self.sectors[&sector];
            match runs.last_mut() {
                Some((_, run)) if next == Some(sector) => run.extend_from_slice(data),
                _ => runs.push((sector, data.to_vec())),
            }
            next = Some(sector + 1);
        }
        runs
    }

    /// Marks sectors dirty again (their write-back failed).
    pub(crate) fn mark_dirty(&mut self, sectors: impl IntoIterator<Item = u64>) {
        self.dirty.extend(sectors);
    }

    /// Drops clean sectors beyond the capacity.
    pub(crate) fn trim(&mut self) {
        if self.sectors.len() <= self.capacity {
            return;
        }
        let excess = self.sectors.len() - self.capacity;
        let victims: Vec<u64> = self
            .sectors
            .keys()
            .filter(|s| !self.dirty.contains(s))
            .take(excess)
            .copied()
            .collect();
        for sector in victims {
            self.sectors.remove(&sector);
        }
    }

    /// Forgets one sector, clean or dirty: the next use reads the device's copy.
    pub(crate) fn forget(&mut self, sector: u64) {
        self.dirty.remove(&sector);
        self.sectors.remove(&sector);
    }

    /// Forgets every clean sector (after a format, say).
    pub(crate) fn clear_clean(&mut self) {
        let dirty = &self.dirty;
        self.sectors.retain(|s, _| dirty.contains(s));
    }
}
