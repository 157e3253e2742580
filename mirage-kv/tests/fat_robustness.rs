//! `FatFs` never blocks the thread, and never panics on a damaged image.

use mirage_block::MemBlock;
use mirage_kv::FatFs;
use mirage_types::{Block, BlockError, BlockInfo, Device, Fs, FsError, async_trait};
use proptest::prelude::*;
use std::cell::Cell;
use std::rc::Rc;

fn run<F: std::future::Future>(future: F) -> F::Output {
    mirage_unix::run(future)
}

/// A block device whose every read and write completes only after yielding to the runtime:
/// a bridge that waited synchronously for it would deadlock the single thread.
struct Yielding {
    inner: MemBlock,
    ticks: Rc<Cell<u64>>,
}

#[async_trait(?Send)]
impl Device for Yielding {
    async fn disconnect(&self) {}
}

#[async_trait(?Send)]
impl Block for Yielding {
    async fn get_info(&self) -> BlockInfo {
        self.inner.get_info().await
    }
    async fn read(&self, start: u64, buffers: &mut [&mut [u8]]) -> Result<(), BlockError> {
        let before = self.ticks.get();
        // Wait until another task has run: only a free runtime thread lets it.
        while self.ticks.get() == before {
            tokio::task::yield_now().await;
        }
        self.inner.read(start, buffers).await
    }
    async fn write(&self, start: u64, buffers: &[&[u8]]) -> Result<(), BlockError> {
        tokio::task::yield_now().await;
        self.inner.write(start, buffers).await
    }
}

#[test]
fn the_bridge_never_blocks_the_runtime_thread() {
    run(async {
        let ticks = Rc::new(Cell::new(0));
        let ticker = ticks.clone();
        let ticking = tokio::task::spawn_local(async move {
            loop {
                ticker.set(ticker.get() + 1);
                tokio::task::yield_now().await;
            }
        });
        let disk = Yielding {
            inner: MemBlock::new(512, 8192).unwrap(),
            ticks: ticks.clone(),
        };
        let fs = FatFs::format_device(disk).await.unwrap();
        let data: Vec<u8> = (0..200_000u32).map(|i| i as u8).collect();
        fs.write("dir/file.bin", 0, &data).await.unwrap();
        // A fresh handle on the same sectors, so that every read goes to the device.
        let reopened = FatFs::connect(Yielding {
            inner: fs.block().inner.clone(),
            ticks: ticks.clone(),
        })
        .await
        .unwrap();
        let read = tokio::time::timeout(
            std::time::Duration::from_secs(30),
            reopened.read("dir/file.bin", 0, data.len() as u64),
        )
        .await
        .expect("a blocked bridge would never finish");
        assert_eq!(&read.unwrap()[..], &data[..]);
        assert!(ticks.get() > 10, "other tasks ran {} times", ticks.get());
        ticking.abort();
    });
}

#[test]
fn format_gives_an_empty_filesystem_and_checks_its_size() {
    run(async {
        let fs = FatFs::format_device(MemBlock::new(4096, 4096).unwrap())
            .await
            .unwrap();
        assert!(fs.listdir("/").await.unwrap().is_empty());
        fs.write("a", 0, b"x").await.unwrap();
        fs.format(8 << 20).await.unwrap();
        assert!(fs.listdir("").await.unwrap().is_empty());
        assert_eq!(fs.format(1 << 40).await, Err(FsError::NoSpace));
        let blank = MemBlock::new(512, 100).unwrap();
        assert!(matches!(
            FatFs::connect(blank).await,
            Err(FsError::FormatNotRecognised(_))
        ));
    });
}

#[test]
fn a_failed_write_changes_nothing() {
    run(async {
        let fs = FatFs::format_device(MemBlock::new(512, 2048).unwrap())
            .await
            .unwrap();
        fs.write("keep", 0, b"kept").await.unwrap();
        let before = fs.block().to_vec();
        let too_big = vec![7u8; 2 << 20];
        assert_eq!(fs.write("huge", 0, &too_big).await, Err(FsError::NoSpace));
        assert_eq!(fs.block().to_vec(), before);
        assert!(matches!(
            fs.stat("huge").await,
            Err(FsError::NoDirectoryEntry { .. })
        ));
        assert_eq!(fs.read("keep", 0, 10).await.unwrap(), "kept");
    });
}

/// A small populated image, made once.
fn sample_image() -> Vec<u8> {
    run(async {
        let fs = FatFs::format_device(MemBlock::new(512, 1024).unwrap())
            .await
            .unwrap();
        fs.write("a", 0, b"foo\n").await.unwrap();
        fs.write("dir/b.txt", 0, &[1u8; 5000]).await.unwrap();
        fs.write("dir/sub/c with a long name", 0, b"c")
            .await
            .unwrap();
        fs.block().to_vec()
    })
}

/// Every operation on a damaged image returns, with a value or an error.
async fn exercise(fs: &FatFs<MemBlock>) {
    let _ = fs.listdir("/").await;
    let _ = fs.listdir("dir").await;
    let _ = fs.read("a", 0, 100).await;
    let _ = fs.read("dir/b.txt", 0, 10_000).await;
    let _ = fs.stat("dir/sub/c with a long name").await;
    let _ = fs.write("dir/new", 0, b"new").await;
    let _ = fs.destroy("a").await;
    let _ = fs.mkdir("x/y").await;
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn mutated_images_never_panic(
        flips in proptest::collection::vec((0usize..64 * 512, any::<u8>()), 1..40),
    ) {
        let mut image = sample_image();
        for (at, byte) in flips {
            image[at] = byte;
        }
        run(async {
            if let Ok(fs) = FatFs::connect(MemBlock::from_bytes(512, image).unwrap()).await {
                exercise(&fs).await;
            }
        });
    }

    #[test]
    fn truncated_images_give_errors(sectors in 0usize..1024) {
        let image = sample_image()[..sectors * 512].to_vec();
        run(async {
            if let Ok(fs) = FatFs::connect(MemBlock::from_bytes(512, image).unwrap()).await {
                exercise(&fs).await;
            }
        });
    }
}
