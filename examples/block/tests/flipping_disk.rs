//! A disk that returns wrong data fails block_test: Mirage's example printed "Buffers are not
//! equal" and still counted a pass.

use mir_block_test::unikernel::Main;
use mirage_block::MemBlock;
use mirage_console::MemConsole;
use mirage_types::{Block, BlockError, BlockInfo, Device, async_trait};

/// A disk whose reads come back with their first byte flipped.
struct Flipping(MemBlock);

#[async_trait(?Send)]
impl Device for Flipping {
    async fn disconnect(&self) {}
}

#[async_trait(?Send)]
impl Block for Flipping {
    async fn get_info(&self) -> BlockInfo {
        self.0.get_info().await
    }

    async fn read(&self, start: u64, buffers: &mut [&mut [u8]]) -> Result<(), BlockError> {
        self.0.read(start, buffers).await?;
        if let Some(first) = buffers.first_mut() {
            first[0] ^= 0xff;
        }
        Ok(())
    }

    async fn write(&self, start: u64, buffers: &[&[u8]]) -> Result<(), BlockError> {
        self.0.write(start, buffers).await
    }
}

#[test]
fn wrong_data_read_back_is_a_failed_check() {
    let console = MemConsole::new();
    let disk = Flipping(MemBlock::new(512, 1000).unwrap());
    let totals = mirage_unix::run(Main::new(&console, disk).start()).unwrap();
    let output = console.output();
    assert_eq!(
        output.matches("Buffers are not equal").count(),
        6,
        "{output}"
    );
    assert_eq!((totals.started, totals.passed, totals.failed), (10, 4, 6));
    assert!(
        output.ends_with("Total tests passed:  4\nTotal tests failed:  6\n"),
        "{output}"
    );
}

#[test]
fn a_correct_disk_passes_all_ten() {
    let console = MemConsole::new();
    let disk = MemBlock::new(512, 1000).unwrap();
    let totals = mirage_unix::run(Main::new(&console, disk).start()).unwrap();
    assert_eq!((totals.passed, totals.failed), (10, 0));
    assert!(!console.output().contains("Buffers are not equal"));
}
