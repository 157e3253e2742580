//! `FileBlock`: Mirage's `block_of_file`, over an image file or a real block device.

#[allow(unused_imports)]
use crate::prelude::*;

mod aligned;
mod open;
mod vectored;

use aligned::AlignedBuf;
use mirage_types::{Block, BlockError, BlockInfo, Device, async_trait, check_request};
use std::cell::{Cell, RefCell};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;
use vectored::NoWait;

/// How to open a [`FileBlock`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct FileBlockOptions {
    /// Open read-only even where writing is permitted.
    pub read_only: bool,
    /// Bypass the page cache (`O_DIRECT`). Every buffer must then start at an address that
    /// is a multiple of the sector size, or the request fails with
    /// [`BlockError::Misaligned`]. Direct transfers always run off the runtime thread.
    pub direct: bool,
    /// Run every transfer on tokio's blocking pool, never on the runtime thread. Slower for
    /// data in the page cache; for measurement and for filesystems where even cached I/O
    /// may stall.
    pub always_offload: bool,
}

impl FileBlockOptions {
    /// Sets `read_only`: open read-only even where writing is permitted.
    pub fn read_only(mut self, read_only: bool) -> Self {
        self.read_only = read_only;
        self
    }

    /// Sets `direct`: bypass the page cache (`O_DIRECT`).
    pub fn direct(mut self, direct: bool) -> Self {
        self.direct = direct;
        self
    }

    /// Sets `always_offload`: run every transfer on the blocking pool.
    pub fn always_offload(mut self, always_offload: bool) -> Self {
        self.always_offload = always_offload;
        self
    }
}

/// How many requests ran on the runtime thread and how many on the blocking pool.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IoCounters {
    /// Requests served entirely from the page cache without waiting.
    pub inline: u64,
    /// Requests (or their remainders) that had to wait for the disk, run off the runtime
    /// thread.
    pub offloaded: u64,
}

/// A block device over an image file or a block device (Mirage's `block_of_file`).
///
/// * Regular files have 512-byte sectors and `size / 512` of them; block devices report
///   their own logical sector size and size.
/// * Each request is validated whole before any byte moves, then done with one vectored
///   positional system call (`preadv2`/`pwritev2`).
/// * Transfers that need not wait for the disk run on the runtime thread, without a thread
///   hop: reads try `RWF_NOWAIT` (served from the page cache or refused); writes try
///   `RWF_NOWAIT` too, and where the filesystem does not support it (ext4), run inline only
///   when `cachestat(2)` shows every page of the range cached and none under writeback.
///   Whatever would wait for the disk is finished on tokio's blocking pool, so a slow disk
///   never stalls other tasks. A file on tmpfs or ramfs is memory: its transfers all run
///   inline (tmpfs refuses `RWF_NOWAIT` before Linux 6.6 and has no disk to wait for). [`FileBlock::io_counters`] tells which path requests took.
///   (Measured: the blocking pool costs a thread hop of tens of microseconds per request,
///   25 times the cost of a cached 4 KiB read; see the crate's `BENCHMARKS.md`.)
/// * A completed write has reached the operating system; [`Block::flush`] (`fdatasync`)
///   makes it durable.
///
/// A handle: clones share the open file.
#[derive(Clone)]
pub struct FileBlock {
    inner: Rc<Inner>,
}

struct Inner {
    path: PathBuf,
    file: RefCell<Option<Arc<File>>>,
    info: BlockInfo,
    options: FileBlockOptions,
    /// On tmpfs or ramfs: every transfer runs inline (nothing waits for a disk).
    in_memory: bool,
    nowait_writes: Cell<bool>,
    counters: Cell<IoCounters>,
}

impl FileBlock {
    /// Opens `path` read-write, or read-only if writing is not permitted (then
    /// `get_info().read_write` is false and writes fail with [`BlockError::IsReadOnly`]).
    pub async fn connect(path: impl AsRef<Path>) -> Result<Self, BlockError> {
        Self::connect_with(path, FileBlockOptions::default()).await
    }

    /// Opens `path` with `options`.
    pub async fn connect_with(
        path: impl AsRef<Path>,
        options: FileBlockOptions,
    ) -> Result<Self, BlockError> {
        let path = path.as_ref().to_path_buf();
        let for_open = path.clone();
        let opened = tokio::task::spawn_blocking(move || {
            open::open(&for_open, options.read_only, options.direct)
        })
        .await
        .map_err(|e| BlockError::Unknown(format!("open task failed: {e}")))??;
        Ok(FileBlock {
            inner: Rc::new(Inner {
                path,
                file: RefCell::new(Some(Arc::new(opened.file))),
                info: BlockInfo {
                    read_write: opened.read_write,
                    sector_size: opened.sector_size,
                    size_sectors: opened.size_sectors,
                },
                options,
                in_memory: opened.in_memory,
                nowait_writes: Cell::new(!options.direct && !options.always_offload),
                counters: Cell::new(IoCounters::default()),
            }),
        })
    }

    /// The path this device was opened from.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// How many requests ran on the runtime thread and how many off it, so far.
    pub fn io_counters(&self) -> IoCounters {
        self.inner.counters.get()
    }

    fn file(&self) -> Result<Arc<File>, BlockError> {
        self.inner
            .file
            .borrow()
            .clone()
            .ok_or(BlockError::Disconnected)
    }

    fn count(&self, offloaded: bool) {
        let mut counters = self.inner.counters.get();
        if offloaded {
            counters.offloaded += 1;
        } else {
            counters.inline += 1;
        }
        self.inner.counters.set(counters);
    }

    fn inline_allowed(&self) -> bool {
        !self.inner.options.direct && !self.inner.options.always_offload
    }

    /// Validates a request: connected, range and lengths, and alignment for direct I/O.
    fn check<'b>(
        &self,
        start_sector: u64,
        buffers: impl Iterator<Item = &'b [u8]> + Clone,
    ) -> Result<(Arc<File>, u64), BlockError> {
        let file = self.file()?;
        check_request(
            &self.inner.info,
            start_sector,
            buffers.clone().map(<[u8]>::len),
        )?;
        if self.inner.options.direct {
            let alignment = self.inner.info.sector_size as usize;
            if let Some(index) = buffers
                .clone()
                .position(|b| !(b.as_ptr() as usize).is_multiple_of(alignment))
            {
                return Err(BlockError::Misaligned { index, alignment });
            }
        }
        Ok((file, start_sector * u64::from(self.inner.info.sector_size)))
    }
}

impl FileBlock {
    /// Finishes a write on the blocking pool, from byte `done` of the request.
    async fn offload_write(
        &self,
        file: Arc<File>,
        buffers: &[&[u8]],
        offset: u64,
        done: usize,
    ) -> Result<(), BlockError> {
        let rest = remainder(buffers, done);
        if rest.is_empty() {
            return Ok(());
        }
        self.count(true);
        let data = AlignedBuf::gather(&rest);
        let at = offset + done as u64;
        offload(move || vectored::write_all_at(&file, &data, at)).await
    }
}

/// Copies `data` into `buffers`, skipping their first `skip` bytes.
fn scatter(buffers: &mut [&mut [u8]], mut skip: usize, mut data: &[u8]) {
    for buffer in buffers.iter_mut() {
        if skip >= buffer.len() {
            skip -= buffer.len();
            continue;
        }
        let take = (buffer.len() - skip).min(data.len());
        buffer[skip..skip + take].copy_from_slice(&data[..take]);
        data = &data[take..];
        skip = 0;
    }
}

/// The bytes of `buffers` after the first `skip`, as slices.
fn remainder<'b>(buffers: &[&'b [u8]], mut skip: usize) -> Vec<&'b [u8]> {
    let mut rest = Vec::with_capacity(buffers.len());
    for buffer in buffers {
        if skip >= buffer.len() {
            skip -= buffer.len();
        } else {
            rest.push(&buffer[skip..]);
            skip = 0;
        }
    }
    rest
}

fn io_error(error: std::io::Error) -> BlockError {
    BlockError::Io(error.into())
}

async fn offload<T: Send + 'static>(
    work: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> Result<T, BlockError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| BlockError::Unknown(format!("I/O task failed: {e}")))?
        .map_err(io_error)
}

#[async_trait(?Send)]
impl Device for FileBlock {
    async fn disconnect(&self) {
        // Transfers already on the blocking pool keep their own reference to the file.
        self.inner.file.borrow_mut().take();
    }
}

#[async_trait(?Send)]
impl Block for FileBlock {
    async fn get_info(&self) -> BlockInfo {
        self.inner.info
    }

    async fn read(&self, start_sector: u64, buffers: &mut [&mut [u8]]) -> Result<(), BlockError> {
        let (file, offset) = self.check(start_sector, buffers.iter().map(|b| &**b))?;
        let total: usize = buffers.iter().map(|b| b.len()).sum();
        let mut done = 0;
        if self.inline_allowed() && self.inner.in_memory {
            vectored::read_in_memory(&file, buffers, offset).map_err(io_error)?;
            self.count(false);
            return Ok(());
        }
        if self.inline_allowed() {
            match vectored::read_nowait(&file, buffers, offset).map_err(io_error)? {
                NoWait::Done => {
                    self.count(false);
                    return Ok(());
                }
                NoWait::WouldBlock(moved) => done = moved,
                NoWait::Unsupported => {}
            }
        }
        if done == total {
            return Ok(());
        }
        self.count(true);
        let at = offset + done as u64;
        let data = offload(move || {
            let mut data = AlignedBuf::zeroed(total - done);
            vectored::read_exact_at(&file, &mut data, at)?;
            Ok(data)
        })
        .await?;
        scatter(buffers, done, &data);
        Ok(())
    }

    async fn write(&self, start_sector: u64, buffers: &[&[u8]]) -> Result<(), BlockError> {
        if !self.inner.info.read_write {
            self.file()?;
            return Err(BlockError::IsReadOnly);
        }
        let (file, offset) = self.check(start_sector, buffers.iter().copied())?;
        if self.inline_allowed() && self.inner.in_memory {
            vectored::write_cached(&file, buffers, offset).map_err(io_error)?;
            self.count(false);
            return Ok(());
        }
        if self.inline_allowed() {
            if self.inner.nowait_writes.get() {
                match vectored::write_nowait(&file, buffers, offset).map_err(io_error)? {
                    NoWait::Done => {
                        self.count(false);
                        return Ok(());
                    }
                    NoWait::WouldBlock(moved) => {
                        return self.offload_write(file, buffers, offset, moved).await;
                    }
                    // This filesystem cannot say whether a write would wait: ask the page
                    // cache instead, from now on.
                    NoWait::Unsupported => self.inner.nowait_writes.set(false),
                }
            }
            let len = buffers.iter().map(|b| b.len() as u64).sum();
            if vectored::range_is_cached(&file, offset, len) == Some(true) {
                vectored::write_cached(&file, buffers, offset).map_err(io_error)?;
                self.count(false);
                return Ok(());
            }
        }
        self.offload_write(file, buffers, offset, 0).await
    }

    /// `fdatasync`, off the runtime thread.
    async fn flush(&self) -> Result<(), BlockError> {
        let file = self.file()?;
        if !self.inner.info.read_write {
            return Ok(());
        }
        offload(move || file.sync_data()).await
    }
}

impl std::fmt::Debug for FileBlock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileBlock")
            .field("path", &self.inner.path)
            .field("info", &self.inner.info)
            .field("options", &self.inner.options)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scatter_and_remainder_skip_across_buffers() {
        let (mut a, mut b, mut c) = ([0u8; 2], [0u8; 3], [0u8; 2]);
        scatter(&mut [&mut a, &mut b, &mut c], 3, b"wxyz");
        assert_eq!((a, b, c), ([0, 0], [0, b'w', b'x'], [b'y', b'z']));
        let parts: [&[u8]; 3] = [b"ab", b"cde", b"fg"];
        assert_eq!(remainder(&parts, 3), vec![&b"de"[..], &b"fg"[..]]);
        assert_eq!(remainder(&parts, 7), Vec::<&[u8]>::new());
        assert_eq!(remainder(&parts, 0).len(), 3);
    }
}
