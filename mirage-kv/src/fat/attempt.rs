//! One synchronous attempt at an operation, over the cache, for `fatfs`.
//!
//! `fatfs` does synchronous I/O; the device is asynchronous. An attempt never waits: reads of
//! sectors not in the cache return zeros and record the sectors; writes go to an overlay. If
//! anything was missing, the caller fetches it (asynchronously) and runs the operation again
//! from the start; otherwise it commits the overlay. Large reads straight into the caller's
//! output buffer are not copied at all: they are recorded and filled from the device
//! afterwards, directly into that buffer.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

use super::cache::{SectorCache, SectorMap};
use std::collections::{BTreeSet, HashMap};

/// How many times one attempt may come back to the same directory sector. A pass over a
/// directory visits each of its sectors once and an operation makes a few passes; a
/// directory whose cluster chain loops comes back without end, and is caught here within
/// milliseconds (FAT allows at most 65,536 entries, 2 MiB, in a directory).
const MAX_VISITS: u32 = 64;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::ops::Range;

/// One sector's part of a transfer.
struct Piece {
    sector: u64,
    /// Where the part starts within the sector.
    within: usize,
    len: usize,
    /// Bytes of the transfer before this part.
    done: usize,
}

/// The sector-sized pieces of `len` bytes at byte `position`.
fn pieces(position: u64, len: usize, sector_size: usize) -> impl Iterator<Item = Piece> {
    let size = sector_size as u64;
    let mut done = 0;
    std::iter::from_fn(move || {
        (done < len).then(|| {
            let at = position + done as u64;
            let within = (at % size) as usize;
            let piece = Piece {
                sector: at / size,
                within,
                len: (sector_size - within).min(len - done),
                done,
            };
            done += piece.len;
            piece
        })
    })
}

/// A read into the output buffer, to be done from the device after the attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Deferred {
    /// Where in the output buffer.
    pub(crate) out_offset: usize,
    /// Where on the device, in bytes (sector-aligned).
    pub(crate) device_offset: u64,
    /// How many bytes (whole sectors).
    pub(crate) len: usize,
}

/// What an attempt found out.
pub(crate) struct Outcome {
    pub(crate) written: SectorMap<Box<[u8]>>,
    pub(crate) missing: BTreeSet<u64>,
    pub(crate) deferred: Vec<Deferred>,
    /// Every read into the output buffer, deferred or not, in order: for a file read
    /// sequentially, where each byte of the file lies on the device.
    pub(crate) traced: Vec<Deferred>,
    pub(crate) budget_exhausted: bool,
    /// A directory sector was visited more than [`MAX_VISITS`] times: its chain loops.
    pub(crate) looped: bool,
}

/// The device as `fatfs` sees it during one attempt.
pub(crate) struct Attempt<'c> {
    cache: &'c SectorCache,
    sector_size: usize,
    device_bytes: u64,
    position: u64,
    written: SectorMap<Box<[u8]>>,
    missing: BTreeSet<u64>,
    deferred: Vec<Deferred>,
    traced: Vec<Deferred>,
    /// Addresses of the operation's output buffer: reads landing there may be deferred.
    output: Range<usize>,
    /// Bytes the attempt may still read: a cyclic cluster chain would read forever.
    budget: u64,
    budget_exhausted: bool,
    /// The cached sector read last: walking a FAT reads one sector many times in a row.
    last: Option<(u64, &'c [u8])>,
    /// The first byte of the region where directories live (`None`: not known yet).
    directories_start: Option<u64>,
    /// Arrivals at each directory-region sector, and the sector read last.
    visits: HashMap<u64, u32>,
    last_visited: Option<u64>,
    looped: bool,
}

impl<'c> Attempt<'c> {
    pub(crate) fn new(
        cache: &'c SectorCache,
        sector_size: usize,
        device_bytes: u64,
        output: Range<usize>,
        budget: u64,
        directories_start: Option<u64>,
    ) -> Self {
        Attempt {
            cache,
            sector_size,
            device_bytes,
            position: 0,
            written: SectorMap::default(),
            missing: BTreeSet::new(),
            deferred: Vec::new(),
            traced: Vec::new(),
            output,
            budget,
            budget_exhausted: false,
            last: None,
            directories_start,
            visits: HashMap::new(),
            last_visited: None,
            looped: false,
        }
    }

    pub(crate) fn finish(self) -> Outcome {
        Outcome {
            written: self.written,
            missing: self.missing,
            deferred: self.deferred,
            traced: self.traced,
            budget_exhausted: self.budget_exhausted,
            looped: self.looped,
        }
    }

    /// Counts an arrival at `sector` if it lies where directories live; false once one has
    /// been visited too often.
    fn visit(&mut self, sector: u64) -> bool {
        if self.last_visited == Some(sector) {
            return true;
        }
        self.last_visited = Some(sector);
        match self.directories_start {
            Some(start) if sector * self.sector_size as u64 >= start => {
                let visits = self.visits.entry(sector).or_default();
                *visits += 1;
                *visits <= MAX_VISITS
            }
            _ => true,
        }
    }

    fn sector(&mut self, sector: u64) -> Option<&[u8]> {
        if !self.written.is_empty()
            && let Some(data) = self.written.get(&sector)
        {
            return Some(data);
        }
        if let Some((number, data)) = self.last
            && number == sector
        {
            return Some(data);
        }
        let data = self.cache.get(sector)?;
        self.last = Some((sector, data));
        Some(data)
    }

    /// Whether a read of `len` bytes here into `buf` can wait until after the attempt.
    fn deferrable(&self, buf: &[u8], len: usize) -> bool {
        let start = buf.as_ptr() as usize;
        let size = self.sector_size as u64;
        self.output.contains(&start)
            && start + len <= self.output.end
            && self.position.is_multiple_of(size)
            && (len as u64).is_multiple_of(size)
            && (self.position / size..(self.position + len as u64) / size)
                .all(|s| !self.written.contains_key(&s) && !self.cache.contains(s))
    }
}

impl Read for Attempt<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let len = (buf.len() as u64).min(self.device_bytes.saturating_sub(self.position)) as usize;
        if len == 0 {
            return Ok(0);
        }
        if self.budget < len as u64 {
            self.budget_exhausted = true;
            return Err(io::Error::other(
                "read budget exhausted (a cyclic cluster chain?)",
            ));
        }
        self.budget -= len as u64;
        let start = buf.as_ptr() as usize;
        if self.output.contains(&start) {
            self.traced.push(Deferred {
                out_offset: start - self.output.start,
                device_offset: self.position,
                len,
            });
        }
        if self.deferrable(buf, len) {
            self.deferred.push(Deferred {
                out_offset: start - self.output.start,
                device_offset: self.position,
                len,
            });
            self.position += len as u64;
            return Ok(len);
        }
        for piece in pieces(self.position, len, self.sector_size) {
            if !self.visit(piece.sector) {
                self.looped = true;
                return Err(io::Error::other("a directory's cluster chain loops"));
            }
            let target = &mut buf[piece.done..piece.done + piece.len];
            match self.sector(piece.sector) {
                Some(data) => target.copy_from_slice(&data[piece.within..piece.within + piece.len]),
                None => {
                    self.missing.insert(piece.sector);
                    target.fill(0);
                }
            }
        }
        self.position += len as u64;
        Ok(len)
    }
}

impl Write for Attempt<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if !self.missing.is_empty() {
            // A read came back empty for want of sectors: this attempt will be run again once
            // they are fetched, and what it decided since may rest on the empty read (a file
            // whose entry was missing looks empty, and a write at its end would fill the
            // whole length with zeros). Stop it here rather than keep those writes.
            return Err(io::Error::other("the attempt lacks sectors: it is retried"));
        }
        let len = (buf.len() as u64).min(self.device_bytes.saturating_sub(self.position)) as usize;
        for piece in pieces(self.position, len, self.sector_size) {
            let (sector, within, take, done) = (piece.sector, piece.within, piece.len, piece.done);
            let mut data: Box<[u8]> = if take == self.sector_size {
                vec![0u8; self.sector_size].into()
            } else {
                match self.sector(sector) {
                    Some(old) => old.into(),
                    None => {
                        self.missing.insert(sector);
                        vec![0u8; self.sector_size].into()
                    }
                }
            };
            data[within..within + take].copy_from_slice(&buf[done..done + take]);
            self.written.insert(sector, data);
        }
        self.position += len as u64;
        Ok(len)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Seek for Attempt<'_> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(at) => Some(at),
            SeekFrom::End(delta) => self.device_bytes.checked_add_signed(delta),
            SeekFrom::Current(delta) => self.position.checked_add_signed(delta),
        };
        self.position = target
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek out of range"))?;
        Ok(self.position)
    }
}
