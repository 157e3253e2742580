//! A conformance suite any [`Block`] can be run against (feature `conformance`).
//!
//! * [`block_test_checks`]: the ten checks of Mirage's `block_test` (six write-and-read-back
//!   checks at both ends of the device, four requests past the end that must fail), plus a
//!   check that the failing writes moved no byte.
//! * [`error_checks`]: bad buffer lengths, overflowing ranges, empty requests, read-only
//!   devices: each gives its precise error and changes nothing.
//! * [`model_checks`]: a long seeded random sequence of reads, writes and flushes compared
//!   with an in-memory model; the same seed gives the same sequence.
//! * [`disconnect_checks`]: every operation after `disconnect` fails with
//!   [`BlockError::Disconnected`].
//!
//! ```
//! use mirage_block::{MemBlock, conformance};
//! let disk = MemBlock::new(512, 64).unwrap();
//! mirage_unix::run(conformance::run_all(&disk, 7)).unwrap();
//! ```

#[allow(unused_imports)]
use crate::prelude::*;

mod model;
mod plan;

pub use model::model_checks;
pub use plan::{BlockTestCheck, BlockTestOp, block_test_plan, pattern};

use core::fmt;
use mirage_types::{Block, BlockError};

/// A conformance check that failed: which one, and what was seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The check's name.
    pub check: String,
    /// What went wrong.
    pub detail: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.check, self.detail)
    }
}

impl core::error::Error for Failure {}

pub(crate) fn fail<T>(check: impl Into<String>, detail: impl Into<String>) -> Result<T, Failure> {
    Err(Failure {
        check: check.into(),
        detail: detail.into(),
    })
}

/// Every check, in order: the `block_test` checks and write error checks on a writable
/// device (the read-only checks on a read-only one), then the model checks with `seed`.
/// Leaves the device connected.
pub async fn run_all<B: Block>(device: &B, seed: u64) -> Result<(), Failure> {
    if device.get_info().await.read_write {
        block_test_checks(device).await?;
    }
    error_checks(device).await?;
    model_checks(device, seed, 2_000).await
}

/// The ten checks of `block_test`. The device must be writable and hold at least 12
/// sectors.
pub async fn block_test_checks<B: Block>(device: &B) -> Result<(), Failure> {
    let info = device.get_info().await;
    let sector_size = info.sector_size as usize;
    let plan = block_test_plan(info.size_sectors)
        .ok_or_else(|| too_small("block_test", info.size_sectors))?;
    for check in plan {
        let name = format!("block_test {check}");
        let buffers = pattern(sector_size, check.sectors as usize);
        let slices: Vec<&[u8]> = buffers.iter().map(Vec::as_slice).collect();
        match (check.op, check.must_succeed) {
            (BlockTestOp::Write, true) => {
                if let Err(error) = device.write(check.start_sector, &slices).await {
                    return fail(name, format!("write failed: {error}"));
                }
                let mut back = vec![vec![0u8; sector_size]; check.sectors as usize];
                let mut views: Vec<&mut [u8]> = back.iter_mut().map(Vec::as_mut_slice).collect();
                if let Err(error) = device.read(check.start_sector, &mut views).await {
                    return fail(name, format!("read back failed: {error}"));
                }
                if back != buffers {
                    return fail(name, "data read back differs from data written");
                }
            }
            (BlockTestOp::Write, false) => {
                let before = read_tail(device, check.start_sector).await?;
                expect_out_of_range(&name, device.write(check.start_sector, &slices).await)?;
                if read_tail(device, check.start_sector).await? != before {
                    return fail(name, "a rejected write changed the device");
                }
            }
            (BlockTestOp::Read, _) => {
                let mut back = vec![vec![0u8; sector_size]; check.sectors as usize];
                let mut views: Vec<&mut [u8]> = back.iter_mut().map(Vec::as_mut_slice).collect();
                expect_out_of_range(&name, device.read(check.start_sector, &mut views).await)?;
            }
        }
    }
    Ok(())
}

fn too_small(check: &str, size: u64) -> Failure {
    Failure {
        check: check.into(),
        detail: format!("the device has {size} sectors; at least 12 are needed"),
    }
}

fn expect_out_of_range(name: &str, result: Result<(), BlockError>) -> Result<(), Failure> {
    match result {
        Err(BlockError::OutOfRange { .. }) => Ok(()),
        Err(other) => fail(
            name,
            format!("expected an out-of-range error, got: {other}"),
        ),
        Ok(()) => fail(name, "expected failure; got success"),
    }
}

/// The sectors from `start` (clamped inside the device) to the end.
async fn read_tail<B: Block>(device: &B, start: u64) -> Result<Vec<u8>, Failure> {
    let info = device.get_info().await;
    let start = start.min(info.size_sectors.saturating_sub(1));
    let mut data = vec![0u8; ((info.size_sectors - start) * u64::from(info.sector_size)) as usize];
    match device.read(start, &mut [&mut data]).await {
        Ok(()) => Ok(data),
        Err(error) => fail("read tail", format!("reading from sector {start}: {error}")),
    }
}

/// The first and the last 16 sectors (the whole device if smaller), where the error checks
/// aim their requests.
async fn read_ends<B: Block>(device: &B) -> Result<Vec<u8>, Failure> {
    let size = device.get_info().await.size_sectors;
    let mut ends = read_tail(device, size.saturating_sub(16)).await?;
    if size > 16 {
        let sector = device.get_info().await.sector_size as usize;
        let mut head = vec![0u8; 16.min(size as usize - 16) * sector];
        if let Err(error) = device.read(0, &mut [&mut head]).await {
            return fail("read head", error.to_string());
        }
        ends.extend_from_slice(&head);
    }
    Ok(ends)
}

/// Requests with bad buffers or ranges fail with the precise error and change nothing;
/// empty requests succeed; a read-only device refuses writes.
pub async fn error_checks<B: Block>(device: &B) -> Result<(), Failure> {
    let info = device.get_info().await;
    let size = info.size_sectors;
    let sector = info.sector_size as usize;
    if size == 0 {
        return fail("error checks", "the device has no sectors");
    }
    let before = read_ends(device).await?;
    let mut one = vec![0u8; sector];
    let mut odd = vec![0u8; sector + 1];
    let cases: [(&str, u64, usize, ErrorTest); 4] = [
        ("buffer of sector + 1 bytes", 0, 1, |e| {
            matches!(e, BlockError::BadBufferLength { index: 1, .. })
        }),
        ("start past the end", size, 0, |e| {
            matches!(e, BlockError::OutOfRange { .. })
        }),
        ("start + length overflows", u64::MAX, 0, |e| {
            matches!(e, BlockError::OutOfRange { .. })
        }),
        ("empty buffer", 0, 2, |e| {
            matches!(e, BlockError::BadBufferLength { index: 1, .. })
        }),
    ];
    for (what, start, shape, expected) in cases {
        // Shapes: 0 = one good buffer; 1 = a good then an odd-length one; 2 = good then empty.
        let mut empty: [u8; 0] = [];
        let result = {
            let mut views: Vec<&mut [u8]> = match shape {
                0 => vec![&mut one],
                1 => vec![&mut one, &mut odd],
                _ => vec![&mut one, &mut empty],
            };
            device.read(start, &mut views).await
        };
        check_error(&format!("read: {what}"), result, expected)?;
        if info.read_write {
            let good = vec![0xA5u8; sector];
            let bad = vec![0xA5u8; sector + 1];
            let parts: Vec<&[u8]> = match shape {
                0 => vec![&good],
                1 => vec![&good, &bad],
                _ => vec![&good, &[]],
            };
            check_error(
                &format!("write: {what}"),
                device.write(start, &parts).await,
                expected,
            )?;
        }
    }
    if let Err(error) = device.read(0, &mut []).await {
        return fail("empty read request", format!("failed: {error}"));
    }
    if info.read_write {
        if let Err(error) = device.write(0, &[]).await {
            return fail("empty write request", format!("failed: {error}"));
        }
    } else {
        let data = vec![0x5Au8; sector];
        check_error(
            "write to a read-only device",
            device.write(0, &[&data]).await,
            |e| matches!(e, BlockError::IsReadOnly),
        )?;
    }
    if let Err(error) = device.flush().await {
        return fail("flush", format!("failed: {error}"));
    }
    if read_ends(device).await? != before {
        return fail("error checks", "a rejected request changed the device");
    }
    Ok(())
}

/// Recognises the error a check expects.
type ErrorTest = fn(&BlockError) -> bool;

fn check_error(
    name: &str,
    result: Result<(), BlockError>,
    expected: ErrorTest,
) -> Result<(), Failure> {
    match result {
        Err(error) if expected(&error) => Ok(()),
        Err(error) => fail(name, format!("wrong error: {error}")),
        Ok(()) => fail(name, "expected failure; got success"),
    }
}

/// Disconnects `device`, then checks that reads, writes and flushes all fail with
/// [`BlockError::Disconnected`].
pub async fn disconnect_checks<B: Block>(device: &B) -> Result<(), Failure> {
    let info = device.get_info().await;
    device.disconnect().await;
    let mut sector = vec![0u8; info.sector_size as usize];
    let outcomes = [
        ("read", device.read(0, &mut [&mut sector]).await),
        ("write", device.write(0, &[&sector]).await),
        ("flush", device.flush().await),
    ];
    for (what, outcome) in outcomes {
        check_error(&format!("{what} after disconnect"), outcome, |e| {
            matches!(e, BlockError::Disconnected)
        })?;
    }
    Ok(())
}
