//! The conformance suite against every block backend, and against a broken one.

use mirage_block::conformance::{self, Failure};
use mirage_block::{FileBlock, FileBlockOptions, MemBlock};
use mirage_types::{Block, BlockError, BlockInfo, Device, async_trait};
use std::io::Write;

fn run<F: std::future::Future>(future: F) -> F::Output {
    mirage_unix::run(future)
}

#[test]
fn mem_block_512_and_4096_conform() {
    for sector_size in [512, 4096] {
        let disk = MemBlock::new(sector_size, 1000).unwrap();
        run(async {
            conformance::run_all(&disk, 1).await.unwrap();
            conformance::run_all(&disk.read_only(), 2).await.unwrap();
            conformance::disconnect_checks(&disk).await.unwrap();
        });
    }
}

#[test]
fn file_block_conforms() {
    let mut image = tempfile::NamedTempFile::new().unwrap();
    image.write_all(&vec![0u8; 100_000 * 512]).unwrap();
    run(async {
        let disk = FileBlock::connect(image.path()).await.unwrap();
        let info = disk.get_info().await;
        assert_eq!(
            info,
            BlockInfo {
                read_write: true,
                sector_size: 512,
                size_sectors: 100_000
            }
        );
        conformance::run_all(&disk, 3).await.unwrap();
        conformance::model_checks(&disk, 4, 5_000).await.unwrap();
        let options = FileBlockOptions::default().read_only(true);
        let read_only = FileBlock::connect_with(image.path(), options)
            .await
            .unwrap();
        assert!(!read_only.get_info().await.read_write);
        conformance::run_all(&read_only, 5).await.unwrap();
        conformance::disconnect_checks(&disk).await.unwrap();
    });
}

#[test]
fn file_block_on_tmpfs_conforms_inline() {
    let Ok(image) = tempfile::NamedTempFile::new_in("/dev/shm") else {
        eprintln!("skipped: no /dev/shm");
        return;
    };
    image.as_file().set_len(20_000 * 512).unwrap();
    run(async {
        let disk = FileBlock::connect(image.path()).await.unwrap();
        conformance::run_all(&disk, 7).await.unwrap();
        conformance::model_checks(&disk, 8, 2_000).await.unwrap();
        conformance::disconnect_checks(&disk).await.unwrap();
    });
}

#[test]
fn file_block_conforms_when_every_transfer_is_offloaded() {
    let image = tempfile::NamedTempFile::new().unwrap();
    image.as_file().set_len(300 * 512).unwrap();
    run(async {
        let options = FileBlockOptions::default().always_offload(true);
        let disk = FileBlock::connect_with(image.path(), options)
            .await
            .unwrap();
        conformance::run_all(&disk, 6).await.unwrap();
        assert_eq!(disk.io_counters().inline, 0);
        assert!(disk.io_counters().offloaded > 1000);
    });
}

/// A test double that ignores the sector it is given: everything lands at sector 0.
struct IgnoresOffset(MemBlock);

#[async_trait(?Send)]
impl Device for IgnoresOffset {
    async fn disconnect(&self) {
        self.0.disconnect().await
    }
}

#[async_trait(?Send)]
impl Block for IgnoresOffset {
    async fn get_info(&self) -> BlockInfo {
        self.0.get_info().await
    }
    async fn read(&self, start: u64, buffers: &mut [&mut [u8]]) -> Result<(), BlockError> {
        // Range checks still use the real start, so only the data goes astray.
        mirage_types::check_request(
            &self.0.get_info().await,
            start,
            buffers.iter().map(|b| b.len()),
        )?;
        self.0.read(0, buffers).await
    }
    async fn write(&self, start: u64, buffers: &[&[u8]]) -> Result<(), BlockError> {
        mirage_types::check_request(
            &self.0.get_info().await,
            start,
            buffers.iter().map(|b| b.len()),
        )?;
        self.0.write(0, buffers).await
    }
}

#[test]
fn a_block_that_ignores_its_offset_fails() {
    let broken = IgnoresOffset(MemBlock::new(512, 1000).unwrap());
    let failure: Failure = run(conformance::run_all(&broken, 1)).unwrap_err();
    assert!(failure.check.starts_with("model"), "{failure}");
    // The same seed finds the same failure.
    let again = run(conformance::run_all(&broken, 1)).unwrap_err();
    assert_eq!(failure, again);
}

/// A block that moves the first buffers of a request before noticing the range is bad,
/// as Mirage's Unix backend did.
struct PartialWriter(MemBlock);

#[async_trait(?Send)]
impl Device for PartialWriter {
    async fn disconnect(&self) {}
}

#[async_trait(?Send)]
impl Block for PartialWriter {
    async fn get_info(&self) -> BlockInfo {
        self.0.get_info().await
    }
    async fn read(&self, start: u64, buffers: &mut [&mut [u8]]) -> Result<(), BlockError> {
        self.0.read(start, buffers).await
    }
    async fn write(&self, start: u64, buffers: &[&[u8]]) -> Result<(), BlockError> {
        for (i, buffer) in buffers.iter().enumerate() {
            self.0.write(start + i as u64, &[buffer]).await?;
        }
        Ok(())
    }
}

#[test]
fn a_block_that_writes_part_of_a_bad_request_fails() {
    let broken = PartialWriter(MemBlock::new(512, 100).unwrap());
    let failure = run(conformance::block_test_checks(&broken)).unwrap_err();
    assert_eq!(failure.check, "block_test writing 12 sectors at 89");
    assert!(failure.detail.contains("changed the device"), "{failure}");
}
