//! FAT12/16/32 over any [`Block`], with `fatfs`.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

mod attempt;
mod cache;
mod dot_entries;
mod errors;
mod extents;
mod journal;
mod kv;
mod layout;
mod names;
mod ops;
mod quiet_panic;

use attempt::{Attempt, Deferred};
use cache::SectorCache;
use errors::fs_error;
use fatfs::{FileSystem, FsOptions};
use journal::{Journal, Record};
pub use kv::FatKv;
use layout::Layout;
use mirage_types::{Block, BlockInfo, FsError};
use quiet_panic::catch_quietly;
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::io;

/// Sectors fetched after a missing one, so that walking a FAT or a directory takes few
/// restarts.
const READ_AHEAD: u64 = 15;
/// Clean sectors kept between operations (metadata, mostly): 8 MiB of 512-byte sectors.
const CACHE_SECTORS: usize = 16 * 1024;

/// A FAT filesystem (FAT12, FAT16 or FAT32, long names, subdirectories) on any block device,
/// implementing V1's `Fs`. Sectors of 512 to 4096 bytes.
///
/// `fatfs` is synchronous and `Block` is not; no thread ever blocks. Each operation runs as a
/// synchronous *attempt* over an in-memory cache of sectors: a sector not yet cached reads
/// as zeros and is noted, writes go to a private overlay. If the attempt needed anything, the
/// missing sectors are fetched with `await` and the operation runs again from the start;
/// otherwise its writes are committed and written back. So every operation is atomic (one
/// that fails changes nothing), and file data is read from the device straight into the
/// result, never through the cache.
///
/// A corrupted or truncated image gives [`FsError::FormatNotRecognised`] (or a block error),
/// never a panic: a panic inside `fatfs` is caught and reported so, and a cyclic cluster
/// chain is cut off by a read budget.
///
/// ```
/// use mirage_block::MemBlock;
/// use mirage_kv::FatFs;
/// use mirage_types::Fs;
///
/// mirage_unix::run(async {
///     let disk = MemBlock::new(512, 8192).unwrap(); // 4 MiB
///     let fs = FatFs::format_device(disk).await.unwrap();
///     fs.write("site/index.html", 0, b"<h1>hello</h1>").await.unwrap();
///     assert_eq!(fs.listdir("site").await.unwrap(), ["index.html"]);
///     assert_eq!(fs.read("site/index.html", 4, 5).await.unwrap(), "hello");
/// });
/// ```
pub struct FatFs<B: Block> {
    block: B,
    info: BlockInfo,
    cache: RefCell<SectorCache>,
    /// Write-back runs one at a time, so that an older copy of a sector never lands after a
    /// newer one.
    write_back: tokio::sync::Mutex<()>,
    /// The extent the boot sector gives, once read.
    layout: std::cell::Cell<Option<Layout>>,
    /// Counts committed writes: extents computed at another generation are stale.
    generation: std::cell::Cell<u64>,
    /// Where large files lie on the device, by path (see `extents`).
    extents: RefCell<extents::ExtentCache>,
}

impl<B: Block> FatFs<B> {
    /// Opens the FAT filesystem on `block`, checking that there is one.
    /// An image shorter than its boot sector says (or than one sector) is
    /// [`FsError::FormatNotRecognised`].
    pub async fn connect(block: B) -> Result<Self, FsError> {
        let fs = Self::unchecked(block).await?;
        fs.read_layout().await?;
        fs.with_fs("/", |_fs| Ok(())).await?;
        Ok(fs)
    }

    /// Reads and checks the boot sector's extent.
    async fn read_layout(&self) -> Result<Layout, FsError> {
        let mut boot = vec![0u8; self.sector_size()];
        if self.info.size_sectors == 0 {
            return Err(FsError::FormatNotRecognised(
                "the device is empty: there is no boot sector".into(),
            ));
        }
        self.block.read(0, &mut [&mut boot]).await?;
        let layout = Layout::parse(&boot, self.device_bytes())?;
        self.layout.set(Some(layout));
        Ok(layout)
    }

    /// Formats `block` (all of it) as a fresh FAT filesystem and opens it.
    pub async fn format_device(block: B) -> Result<Self, FsError> {
        let fs = Self::unchecked(block).await?;
        let bytes = fs.device_bytes();
        mirage_types::Fs::format(&fs, bytes).await?;
        Ok(fs)
    }

    async fn unchecked(block: B) -> Result<Self, FsError> {
        let info = block.get_info().await;
        if !(512..=4096).contains(&info.sector_size) {
            return Err(FsError::FormatNotRecognised(format!(
                "FAT needs 512 to 4096-byte sectors, the device has {}",
                info.sector_size
            )));
        }
        Ok(FatFs {
            block,
            info,
            cache: RefCell::new(SectorCache::new(
                CACHE_SECTORS * 512 / info.sector_size as usize,
            )),
            write_back: tokio::sync::Mutex::new(()),
            layout: std::cell::Cell::new(None),
            generation: std::cell::Cell::new(0),
            extents: RefCell::new(extents::ExtentCache::default()),
        })
    }

    /// The block device underneath.
    pub fn block(&self) -> &B {
        &self.block
    }

    pub(crate) fn device_bytes(&self) -> u64 {
        self.info.size_sectors * u64::from(self.info.sector_size)
    }

    fn sector_size(&self) -> usize {
        self.info.sector_size as usize
    }

    /// Runs `op` on the mounted filesystem (see [`FatFs::transact`]); errors name `path`.
    pub(crate) async fn with_fs<R>(
        &self,
        path: &str,
        op: impl FnMut(&FileSystem<&mut Attempt<'_>>) -> io::Result<R>,
    ) -> Result<R, FsError> {
        self.with_fs_ordered(path, &WriteOrder::Ascending, op).await
    }

    /// [`FatFs::with_fs`], its writes reaching the device in `order`.
    pub(crate) async fn with_fs_ordered<R>(
        &self,
        path: &str,
        order: &WriteOrder,
        mut op: impl FnMut(&FileSystem<&mut Attempt<'_>>) -> io::Result<R>,
    ) -> Result<R, FsError> {
        let (result, _) = self
            .attempts_ordered(path, &mut [], true, order, |disk, _| {
                let fs = FileSystem::new(disk, FsOptions::new())?;
                let result = op(&fs)?;
                fs.unmount()?;
                Ok(result)
            })
            .await?;
        Ok(result)
    }

    /// Runs `op` until an attempt needs nothing it does not have, then commits its writes,
    /// writes them back, and fills the reads it deferred into `output`.
    pub(crate) async fn transact<R>(
        &self,
        path: &str,
        output: &mut [u8],
        op: impl FnMut(&mut Attempt<'_>, &mut [u8]) -> io::Result<R>,
    ) -> Result<R, FsError> {
        Ok(self.attempts(path, output, true, op).await?.0)
    }

    /// [`FatFs::transact`], also returning every read the last attempt made into `output`
    /// (in order); with `fill` false the deferred reads are left undone (only where the
    /// data lies is wanted).
    pub(crate) async fn attempts<R>(
        &self,
        path: &str,
        output: &mut [u8],
        fill: bool,
        op: impl FnMut(&mut Attempt<'_>, &mut [u8]) -> io::Result<R>,
    ) -> Result<(R, Vec<Deferred>), FsError> {
        self.attempts_ordered(path, output, fill, &WriteOrder::Ascending, op)
            .await
    }

    /// [`FatFs::attempts`], the committed writes reaching the device in `order`.
    pub(crate) async fn attempts_ordered<R>(
        &self,
        path: &str,
        output: &mut [u8],
        fill: bool,
        order: &WriteOrder,
        mut op: impl FnMut(&mut Attempt<'_>, &mut [u8]) -> io::Result<R>,
    ) -> Result<(R, Vec<Deferred>), FsError> {
        let budget = self
            .device_bytes()
            .saturating_mul(4)
            .saturating_add(output.len() as u64);
        loop {
            let range = output.as_ptr() as usize..output.as_ptr() as usize + output.len();
            let (result, outcome) = {
                let cache = self.cache.borrow();
                let mut attempt = Attempt::new(
                    &cache,
                    self.sector_size(),
                    self.device_bytes(),
                    range,
                    budget,
                    self.layout.get().map(|layout| layout.directories_start),
                );
                let result = catch_quietly(|| op(&mut attempt, output));
                (result, attempt.finish())
            };
            if !outcome.missing.is_empty() {
                self.fetch(&outcome.missing).await?;
                continue;
            }
            if outcome.looped {
                return Err(FsError::FormatNotRecognised(
                    "a directory's cluster chain loops: the filesystem is corrupted".into(),
                ));
            }
            if outcome.budget_exhausted {
                return Err(FsError::FormatNotRecognised(
                    "a cluster chain loops: the filesystem is corrupted".into(),
                ));
            }
            let value = match result {
                None => {
                    return Err(FsError::FormatNotRecognised(
                        "the filesystem is corrupted (its structures are inconsistent)".into(),
                    ));
                }
                Some(Err(error)) => return Err(fs_error(path, error)),
                Some(Ok(value)) => value,
            };
            if !outcome.written.is_empty() {
                // Any write may move a file's clusters: the extents known so far are stale.
                self.generation.set(self.generation.get() + 1);
                let mut written = outcome.written;
                for sector in written.values_mut() {
                    dot_entries::repair(sector);
                }
                self.cache.borrow_mut().commit(written);
                match order {
                    WriteOrder::Ascending => self.write_back(false).await?,
                    WriteOrder::TablesLast => self.write_back(true).await?,
                    WriteOrder::Journaled(journal) => self.write_back_journaled(journal).await?,
                }
            }
            if fill {
                self.fill(output, &outcome.deferred).await?;
            }
            self.cache.borrow_mut().trim();
            return Ok((value, outcome.traced));
        }
    }

    /// Reads the missing sectors (and a few after each) into the cache.
    async fn fetch(&self, missing: &BTreeSet<u64>) -> Result<(), FsError> {
        let size = self.info.size_sectors;
        let mut wanted = BTreeSet::new();
        for &sector in missing {
            let end = sector.saturating_add(READ_AHEAD + 1).min(size);
            let cache = self.cache.borrow();
            wanted.extend((sector..end).filter(|s| !cache.contains(*s)));
        }
        for (start, count) in runs(&wanted) {
            let mut data = vec![0u8; count as usize * self.sector_size()];
            self.block.read(start, &mut [&mut data]).await?;
            let mut cache = self.cache.borrow_mut();
            for (i, sector) in data.chunks(self.sector_size()).enumerate() {
                cache.insert_clean(start + i as u64, sector.into());
            }
        }
        Ok(())
    }

    /// Writes every dirty sector to the device, in ascending order (the allocation tables
    /// before the directories and data that use what they allocate), or with `tables_last`
    /// the tables after everything else (a transaction that frees clusters: a crash between
    /// leaves them allocated but unused, never a directory entry naming freed clusters).
    async fn write_back(&self, tables_last: bool) -> Result<(), FsError> {
        let _turn = self.write_back.lock().await;
        let mut dirty = self.cache.borrow_mut().take_dirty_runs();
        if tables_last {
            let sector_size = self.info.sector_size as u64;
            let tables_end = self
                .layout
                .get()
                .map_or(0, |layout| layout.directories_start / sector_size);
            dirty.sort_by_key(|(start, _)| (*start < tables_end, *start));
        }
        self.write_runs(dirty).await
    }

    /// Writes `dirty` runs in order; what fails to reach the device stays dirty.
    async fn write_runs(&self, dirty: Vec<(u64, Vec<u8>)>) -> Result<(), FsError> {
        for (index, (start, data)) in dirty.iter().enumerate() {
            if let Err(error) = self.block.write(*start, &[data]).await {
                // Keep what is not on the device dirty, so a later operation retries it.
                let mut cache = self.cache.borrow_mut();
                for (start, data) in &dirty[index..] {
                    let count = (data.len() / self.sector_size()) as u64;
                    cache.mark_dirty(*start..*start + count);
                }
                return Err(error.into());
            }
        }
        Ok(())
    }

    /// Writes every dirty sector through `journal` (see the `journal` module): all of them
    /// reach the device, or, after a crash, none or all of them once the journal is replayed.
    async fn write_back_journaled(&self, journal: &Journal) -> Result<(), FsError> {
        let _turn = self.write_back.lock().await;
        let dirty = self.cache.borrow_mut().take_dirty_runs();
        let size = self.sector_size();
        let records: Vec<Record<'_>> = dirty
            .iter()
            .flat_map(|(start, data)| {
                data.chunks(size).enumerate().map(move |(i, data)| Record {
                    sector: start + i as u64,
                    data,
                })
            })
            .collect();
        let image = match journal.image(&records, size) {
            Ok(image) => image,
            Err(error) => {
                // Nothing reached the device: forget the transaction, so it never does.
                let mut cache = self.cache.borrow_mut();
                for record in &records {
                    cache.forget(record.sector);
                }
                self.generation.set(self.generation.get() + 1);
                return Err(error);
            }
        };
        if let Err(error) = self.write_journal(journal, &image).await {
            self.keep_dirty(&dirty);
            return Err(error);
        }
        self.write_runs(dirty).await?;
        self.block.flush().await?;
        self.write_journal(journal, &vec![0u8; size]).await
    }

    /// Writes `image` over the journal's first sectors and flushes the device.
    async fn write_journal(&self, journal: &Journal, image: &[u8]) -> Result<(), FsError> {
        let size = self.sector_size();
        for (index, sector) in image.chunks(size).enumerate() {
            self.block.write(journal.sectors[index], &[sector]).await?;
        }
        Ok(self.block.flush().await?)
    }

    fn keep_dirty(&self, dirty: &[(u64, Vec<u8>)]) {
        let mut cache = self.cache.borrow_mut();
        for (start, data) in dirty {
            let count = (data.len() / self.sector_size()) as u64;
            cache.mark_dirty(*start..*start + count);
        }
    }

    /// Writes in place a complete transaction `journal` holds (one cut short by a crash after
    /// it was journaled), then clears it. Returns whether there was one.
    pub(crate) async fn replay_journal(&self, journal: &Journal) -> Result<bool, FsError> {
        let size = self.sector_size();
        let mut image = vec![0u8; journal.sectors.len() * size];
        for (index, sector) in journal.sectors.iter().enumerate() {
            self.block
                .read(*sector, &mut [&mut image[index * size..(index + 1) * size]])
                .await?;
        }
        let (header, rest) = image.split_at(size);
        let Some(records) = Journal::records(header, rest, size, self.info.size_sectors)? else {
            return Ok(false);
        };
        for (sector, data) in &records {
            self.block.write(*sector, &[data]).await?;
        }
        self.block.flush().await?;
        self.write_journal(journal, &vec![0u8; size]).await?;
        // What was cached was read before the replay.
        self.cache.borrow_mut().clear_clean();
        self.generation.set(self.generation.get() + 1);
        Ok(true)
    }

    /// Fills deferred reads from the device, then lays over them any sector the cache holds
    /// a newer copy of (written by an operation that ran meanwhile).
    async fn fill(&self, output: &mut [u8], deferred: &[Deferred]) -> Result<(), FsError> {
        let size = self.info.sector_size as u64;
        // Clusters read one after another are usually contiguous on the device as in the
        // output: one device read for each such run.
        let mut merged: Vec<Deferred> = Vec::new();
        for read in deferred {
            match merged.last_mut() {
                Some(last)
                    if last.out_offset + last.len == read.out_offset
                        && last.device_offset + last.len as u64 == read.device_offset =>
                {
                    last.len += read.len
                }
                _ => merged.push(*read),
            }
        }
        for read in &merged {
            let target = &mut output[read.out_offset..read.out_offset + read.len];
            self.block
                .read(read.device_offset / size, &mut [target])
                .await?;
        }
        let cache = self.cache.borrow();
        for read in deferred {
            let first = read.device_offset / size;
            for (i, chunk) in output[read.out_offset..read.out_offset + read.len]
                .chunks_mut(size as usize)
                .enumerate()
            {
                if let Some(newer) = cache.get(first + i as u64) {
                    chunk.copy_from_slice(newer);
                }
            }
        }
        Ok(())
    }
}

/// In what order a transaction's sectors reach the device.
pub(crate) enum WriteOrder {
    /// Ascending sector numbers: allocation tables first (right for transactions that only
    /// allocate: a crash leaves clusters allocated but unused at worst).
    Ascending,
    /// Allocation tables last (right for transactions that only free).
    TablesLast,
    /// Through the journal: all or nothing.
    Journaled(Journal),
}

/// Consecutive runs in a sorted set, as (first, count).
fn runs(sectors: &BTreeSet<u64>) -> Vec<(u64, u64)> {
    let mut runs: Vec<(u64, u64)> = Vec::new();
    for &sector in sectors {
        match runs.last_mut() {
            Some((start, count)) if *start + *count == sector => *count += 1,
            _ => runs.push((sector, 1)),
        }
    }
    runs
}
