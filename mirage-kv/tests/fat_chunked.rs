//! Large FAT files read in chunks (through their extents, learnt once per file): the bytes
//! are the file's whatever the chunk size, alignment and fragmentation, writes between reads
//! are seen at once, and a write that lands while a read waits on the device is never half
//! seen.

use mirage_block::MemBlock;
use mirage_kv::FatFs;
use mirage_types::{Block, BlockError, BlockInfo, Device, Fs, async_trait};
use std::cell::Cell;
use std::rc::Rc;

fn pattern(len: usize, seed: u32) -> Vec<u8> {
    (0..len as u32)
        .map(|i| (i.wrapping_mul(2_654_435_761).wrapping_add(seed) >> 11) as u8)
        .collect()
}

/// Reads `path` in `chunk`-byte requests from `start`, joined.
async fn chunked<F: Fs>(fs: &F, path: &str, start: u64, chunk: u64) -> Vec<u8> {
    let mut out = Vec::new();
    let mut at = start;
    loop {
        let part = fs.read(path, at, chunk).await.unwrap();
        if part.is_empty() {
            return out;
        }
        at += part.len() as u64;
        out.extend_from_slice(&part);
    }
}

/// Two files written in turns, a cluster's worth at a time, so each is in many pieces.
async fn fragmented<B: Block>(fs: &FatFs<B>) -> (Vec<u8>, Vec<u8>) {
    let (a, b) = (
        pattern(3 * 1024 * 1024 + 777, 1),
        pattern(2 * 1024 * 1024 + 5, 2),
    );
    let step = 4096;
    fs.create("big/a.bin").await.unwrap();
    fs.create("big/b.bin").await.unwrap();
    for at in (0..a.len().max(b.len())).step_by(step) {
        for (name, data) in [("big/a.bin", &a), ("big/b.bin", &b)] {
            if at < data.len() {
                let end = (at + step).min(data.len());
                fs.write(name, at as u64, &data[at..end]).await.unwrap();
            }
        }
    }
    (a, b)
}

#[test]
fn chunks_of_any_size_and_alignment_give_the_file() {
    mirage_unix::run(async {
        let fs = FatFs::format_device(MemBlock::new(512, 32 * 1024).unwrap())
            .await
            .unwrap();
        let (a, b) = fragmented(&fs).await;
        for (start, chunk) in [
            (0, 4 << 20),
            (0, 65536),
            (1, 65536),
            (4095, 100_000),
            (0, 513),
        ] {
            assert_eq!(
                chunked(&fs, "big/a.bin", start, chunk).await,
                a[start as usize..],
                "a {start} {chunk}"
            );
            assert_eq!(
                chunked(&fs, "BIG/B.BIN", start, chunk).await,
                b[start as usize..],
                "b {start} {chunk}"
            );
        }
        // Reads past the end are empty; a read that runs over it is cut at it.
        assert!(
            fs.read("big/a.bin", a.len() as u64, 10)
                .await
                .unwrap()
                .is_empty()
        );
        let tail = fs.read("big/a.bin", a.len() as u64 - 3, 10).await.unwrap();
        assert_eq!(tail, a[a.len() - 3..]);
    });
}

#[test]
fn writes_between_reads_are_seen() {
    mirage_unix::run(async {
        let fs = FatFs::format_device(MemBlock::new(512, 32 * 1024).unwrap())
            .await
            .unwrap();
        let (mut a, _) = fragmented(&fs).await;
        assert_eq!(chunked(&fs, "big/a.bin", 0, 1 << 20).await, a);
        // Overwrite the middle, grow the end: the extents learnt are stale at once.
        let patch = pattern(10_000, 9);
        fs.write("big/a.bin", 1_500_000, &patch).await.unwrap();
        a[1_500_000..1_510_000].copy_from_slice(&patch);
        let more = pattern(300_000, 7);
        fs.write("big/a.bin", a.len() as u64, &more).await.unwrap();
        a.extend_from_slice(&more);
        assert_eq!(chunked(&fs, "big/a.bin", 0, 1 << 20).await, a);
        assert_eq!(
            chunked(&fs, "big/a.bin", 70_000, 250_000).await,
            a[70_000..]
        );
        // Removed and made again, smaller and elsewhere.
        fs.destroy("big/a.bin").await.unwrap();
        let again = pattern(1_200_000, 3);
        fs.create("big/a.bin").await.unwrap();
        fs.write("big/a.bin", 0, &again).await.unwrap();
        assert_eq!(chunked(&fs, "big/a.bin", 1, 300_000).await, again[1..]);
    });
}

/// A device that lets `gate` more reads through, then holds the rest until the gate opens.
struct Gated {
    inner: MemBlock,
    gate: Rc<Cell<u32>>,
    waiting: Rc<Cell<u32>>,
}

#[async_trait(?Send)]
impl Device for Gated {
    async fn disconnect(&self) {}
}

#[async_trait(?Send)]
impl Block for Gated {
    async fn get_info(&self) -> BlockInfo {
        self.inner.get_info().await
    }
    async fn read(&self, start: u64, buffers: &mut [&mut [u8]]) -> Result<(), BlockError> {
        self.waiting.set(self.waiting.get() + 1);
        while self.gate.get() == 0 {
            tokio::task::yield_now().await;
        }
        self.gate.set(self.gate.get() - 1);
        self.waiting.set(self.waiting.get() - 1);
        self.inner.read(start, buffers).await
    }
    async fn write(&self, start: u64, buffers: &[&[u8]]) -> Result<(), BlockError> {
        self.inner.write(start, buffers).await
    }
}

#[test]
fn a_write_landing_during_a_read_is_never_half_seen() {
    mirage_unix::run(async {
        let gate = Rc::new(Cell::new(u32::MAX));
        let waiting = Rc::new(Cell::new(0));
        let fs = Rc::new(
            FatFs::format_device(Gated {
                inner: MemBlock::new(512, 32 * 1024).unwrap(),
                gate: gate.clone(),
                waiting: waiting.clone(),
            })
            .await
            .unwrap(),
        );
        let (old, _) = fragmented(&*fs).await;
        // Learn the extents and cache the metadata.
        assert_eq!(chunked(&*fs, "big/a.bin", 0, 1 << 20).await, old);
        // A read of a megabyte in many pieces: the first piece is read, the next held.
        gate.set(1);
        let reader = fs.clone();
        let read =
            tokio::task::spawn_local(
                async move { reader.read("big/a.bin", 1 << 20, 1 << 20).await },
            );
        while waiting.get() == 0 {
            tokio::task::yield_now().await;
        }
        // Meanwhile the whole range is rewritten, in whole sectors (nothing to read).
        let new = pattern(1 << 20, 5);
        fs.write("big/a.bin", 1 << 20, &new).await.unwrap();
        gate.set(u32::MAX);
        let got = read.await.unwrap().unwrap();
        assert!(
            got == old[1 << 20..2 << 20] || got == new[..],
            "the read mixed the old bytes with the new"
        );
        assert_eq!(fs.read("big/a.bin", 1 << 20, 1 << 20).await.unwrap(), new);
    });
}
