//! Reading large files through their extents: where each byte of a file lies on the device,
//! learnt once per file.
//!
//! `fatfs` finds a file offset by walking the file's cluster chain from its first cluster,
//! so a file read in many requests costs a walk per request: reading it in chunks is
//! quadratic in its size. For files of [`EXTENTS_FROM`] bytes or more, [`FatFs`] learns
//! where the whole file lies once, from one `fatfs` pass that reads the file in order with
//! its data reads traced but not done, and keeps that as runs of bytes contiguous on the
//! device. Later reads of the file go straight to the device. Every committed write bumps a
//! generation that makes all runs stale, and a read during which a write lands falls back
//! to `fatfs`; sectors the cache holds newer than the device are laid over what was read, as
//! for any read.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

use super::FatFs;
use super::attempt::Deferred;
use fatfs::{FileSystem, FsOptions};
use mirage_types::{Block, FsError};
use std::collections::HashMap;
use std::io::Read;
use std::rc::Rc;

/// Files smaller than this are read through `fatfs` alone (their chains are short).
pub(crate) const EXTENTS_FROM: u64 = 1 << 20;
/// Files whose extents are kept, at most (the cache is emptied when full).
const FILES_KEPT: usize = 64;
/// The buffer the mapping pass reads each piece of the file into (never filled).
const MAP_CHUNK: usize = 1 << 20;

/// Bytes of a file contiguous on the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Run {
    file_offset: u64,
    device_offset: u64,
    len: u64,
}

/// Where a whole file lies, as known at one generation.
pub(crate) struct Extents {
    generation: u64,
    size: u64,
    runs: Vec<Run>,
}

/// Extents by path (ASCII case folded, as FAT compares names).
#[derive(Default)]
pub(crate) struct ExtentCache {
    files: HashMap<String, Rc<Extents>>,
}

/// The runs of a file read in order from its start, given each read it made.
fn runs_of(trace: &[Deferred]) -> Vec<Run> {
    let mut runs: Vec<Run> = Vec::new();
    let mut at = 0;
    for read in trace {
        let len = read.len as u64;
        match runs.last_mut() {
            Some(last) if last.device_offset + last.len == read.device_offset => last.len += len,
            _ => runs.push(Run {
                file_offset: at,
                device_offset: read.device_offset,
                len,
            }),
        }
        at += len;
    }
    runs
}

impl Extents {
    /// The device ranges holding file bytes `offset..offset + len`, as (offset in the
    /// result, device byte offset, length).
    fn pieces(&self, offset: u64, len: u64) -> impl Iterator<Item = (usize, u64, usize)> + '_ {
        let end = offset + len;
        let first = self
            .runs
            .partition_point(|run| run.file_offset + run.len <= offset);
        self.runs[first..]
            .iter()
            .take_while(move |run| run.file_offset < end)
            .map(move |run| {
                let from = offset.max(run.file_offset);
                let to = end.min(run.file_offset + run.len);
                (
                    (from - offset) as usize,
                    run.device_offset + (from - run.file_offset),
                    (to - from) as usize,
                )
            })
    }
}

impl<B: Block> FatFs<B> {
    /// `len` bytes of file `path` (of `size` bytes) from `offset`, read through its
    /// extents; `None` when they cannot serve (the file could not be mapped, or a write
    /// landed meanwhile): the caller reads through `fatfs` instead.
    pub(crate) async fn read_mapped(
        &self,
        path: &str,
        size: u64,
        offset: u64,
        len: usize,
    ) -> Result<Option<Vec<u8>>, FsError> {
        let extents = match self.known_extents(path, size) {
            Some(extents) => extents,
            // A read from the start through fatfs learns the extents as it goes.
            None if offset == 0 => return Ok(None),
            None => match self.learn_extents(path, size).await? {
                Some(extents) => extents,
                None => return Ok(None),
            },
        };
        let settled_before = self.settled();
        let mut data = vec![0u8; len];
        let pieces: Vec<_> = extents.pieces(offset, len as u64).collect();
        if pieces.iter().map(|p| p.2).sum::<usize>() != len {
            return Ok(None);
        }
        for &(at, device, n) in &pieces {
            self.read_bytes(device, &mut data[at..at + n]).await?;
        }
        if self.generation.get() != extents.generation {
            return Ok(None);
        }
        if !(settled_before && self.settled()) {
            // A write-back was under way: the cache holds what the device may not have yet.
            let size = self.info.sector_size as u64;
            let cache = self.cache.borrow();
            for &(at, device, n) in &pieces {
                for sector in device / size..(device + n as u64).div_ceil(size) {
                    if let Some(newer) = cache.get(sector) {
                        let from = (sector * size).max(device);
                        let to = ((sector + 1) * size).min(device + n as u64);
                        let target = at + (from - device) as usize;
                        data[target..target + (to - from) as usize].copy_from_slice(
                            &newer[(from - sector * size) as usize..(to - sector * size) as usize],
                        );
                    }
                }
            }
        }
        Ok(Some(data))
    }

    /// Whether the device holds everything the cache does (nothing dirty, no write-back
    /// under way).
    fn settled(&self) -> bool {
        !self.cache.borrow().has_dirty() && self.write_back.try_lock().is_ok()
    }

    /// The extents of `path` if known at this generation for a file of `size` bytes.
    fn known_extents(&self, path: &str, size: u64) -> Option<Rc<Extents>> {
        let known = self
            .extents
            .borrow()
            .files
            .get(&path.to_ascii_lowercase())?
            .clone();
        (known.generation == self.generation.get() && known.size == size).then_some(known)
    }

    /// Learns the extents of `path` with one `fatfs` pass over the file whose data reads are
    /// traced, not done.
    async fn learn_extents(&self, path: &str, size: u64) -> Result<Option<Rc<Extents>>, FsError> {
        let generation = self.generation.get();
        let mut scratch = vec![0u8; MAP_CHUNK];
        let (total, trace) = self
            .attempts(path, &mut scratch, false, |disk, out| {
                let fs = FileSystem::new(disk, FsOptions::new())?;
                let total = {
                    let mut file = fs.root_dir().open_file(path)?;
                    let mut total = 0u64;
                    loop {
                        match file.read(out)? {
                            0 => break,
                            n => total += n as u64,
                        }
                    }
                    total
                };
                fs.unmount()?;
                Ok(total)
            })
            .await?;
        if total != size {
            return Ok(None);
        }
        Ok(self.remember_extents(path, size, generation, &trace))
    }

    /// Keeps the extents a read of all of `path` from its start traced (`trace`), if the
    /// trace accounts for all `size` bytes and no write landed since `generation`.
    pub(crate) fn remember_extents(
        &self,
        path: &str,
        size: u64,
        generation: u64,
        trace: &[Deferred],
    ) -> Option<Rc<Extents>> {
        let traced: u64 = trace.iter().map(|read| read.len as u64).sum();
        if traced != size || self.generation.get() != generation {
            return None;
        }
        let extents = Rc::new(Extents {
            generation,
            size,
            runs: runs_of(trace),
        });
        let mut cache = self.extents.borrow_mut();
        if cache.files.len() >= FILES_KEPT {
            cache.files.clear();
        }
        cache
            .files
            .insert(path.to_ascii_lowercase(), extents.clone());
        Some(extents)
    }

    /// Reads device bytes `offset..offset + out.len()` into `out`: whole sectors straight
    /// in, a partial first or last sector through a sector-sized buffer.
    async fn read_bytes(&self, offset: u64, out: &mut [u8]) -> Result<(), FsError> {
        let size = self.info.sector_size as usize;
        let (mut at, mut done) = (offset, 0);
        while done < out.len() {
            let within = (at % size as u64) as usize;
            let left = out.len() - done;
            if within == 0 && left >= size {
                let whole = left / size * size;
                self.block
                    .read(at / size as u64, &mut [&mut out[done..done + whole]])
                    .await?;
                done += whole;
                at += whole as u64;
            } else {
                let mut sector = vec![0u8; size];
                self.block
                    .read(at / size as u64, &mut [&mut sector])
                    .await?;
                let take = (size - within).min(left);
                out[done..done + take].copy_from_slice(&sector[within..within + take]);
                done += take;
                at += take as u64;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_join_contiguous_reads_and_pieces_cut_them() {
        let read = |out_offset, device_offset, len| Deferred {
            out_offset,
            device_offset,
            len,
        };
        // Two clusters side by side, then one elsewhere, then a partial tail after it.
        let trace = [
            read(0, 8192, 4096),
            read(4096, 12288, 4096),
            read(0, 40960, 4096),
            read(4096, 45056, 100),
        ];
        let extents = Extents {
            generation: 0,
            size: 12388,
            runs: runs_of(&trace),
        };
        assert_eq!(extents.runs.len(), 2);
        assert_eq!(
            extents.pieces(0, 12388).collect::<Vec<_>>(),
            [(0, 8192, 8192), (8192, 40960, 4196)]
        );
        assert_eq!(
            extents.pieces(8000, 300).collect::<Vec<_>>(),
            [(0, 16192, 192), (192, 40960, 108)]
        );
        assert_eq!(
            extents.pieces(12300, 88).collect::<Vec<_>>(),
            [(0, 45068, 88)]
        );
    }
}
