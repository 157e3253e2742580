//! The ten checks of Mirage's `block_test` example, and its data pattern.

#[allow(unused_imports)]
use crate::prelude::*;

use core::fmt;

/// What a `block_test` check does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockTestOp {
    /// Write the pattern (and, when it must succeed, read it back and compare).
    Write,
    /// Read.
    Read,
}

/// One check of `block_test`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockTestCheck {
    /// Write or read.
    pub op: BlockTestOp,
    /// First sector.
    pub start_sector: u64,
    /// Number of one-sector buffers.
    pub sectors: u64,
    /// Whether the request must succeed (otherwise it must fail: it reaches past the end).
    pub must_succeed: bool,
}

impl fmt::Display for BlockTestCheck {
    /// As `block_test` prints it: `writing 12 sectors at 99988`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verb = match self.op {
            BlockTestOp::Write => "writing",
            BlockTestOp::Read => "reading",
        };
        write!(
            f,
            "{verb} {} sectors at {}",
            self.sectors, self.start_sector
        )
    }
}

/// The ten checks for a device of `size` sectors (`S`): write and read back 1, 2 and 12
/// sectors at 0 and at the very end; then writes of 1 sector at `S` and 12 at `S - 11`, and
/// reads of the same, which must fail. `None` when the device has fewer than 12 sectors.
pub fn block_test_plan(size: u64) -> Option<Vec<BlockTestCheck>> {
    if size < 12 {
        return None;
    }
    let check = |op, start_sector, sectors, must_succeed| BlockTestCheck {
        op,
        start_sector,
        sectors,
        must_succeed,
    };
    use BlockTestOp::{Read, Write};
    Some(vec![
        check(Write, 0, 1, true),
        check(Write, size - 1, 1, true),
        check(Write, 0, 2, true),
        check(Write, size - 2, 2, true),
        check(Write, 0, 12, true),
        check(Write, size - 12, 12, true),
        check(Write, size, 1, false),
        check(Write, size - 11, 12, false),
        check(Read, size, 1, false),
        check(Read, size - 11, 12, false),
    ])
}

/// `block_test`'s data: `sectors` buffers of `sector_size` bytes, buffer `i` filled
/// repeatedly with `"<k>: All work and no play makes Dave a dull boy.\n"` where `k` counts
/// down from `sectors` to 1.
pub fn pattern(sector_size: usize, sectors: usize) -> Vec<Vec<u8>> {
    (0..sectors)
        .map(|i| {
            let phrase = format!(
                "{}: All work and no play makes Dave a dull boy.\n",
                sectors - i
            );
            phrase.bytes().cycle().take(sector_size).collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_for_the_tutorial_disk() {
        let lines: Vec<String> = block_test_plan(100_000)
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            lines,
            [
                "writing 1 sectors at 0",
                "writing 1 sectors at 99999",
                "writing 2 sectors at 0",
                "writing 2 sectors at 99998",
                "writing 12 sectors at 0",
                "writing 12 sectors at 99988",
                "writing 1 sectors at 100000",
                "writing 12 sectors at 99989",
                "reading 1 sectors at 100000",
                "reading 12 sectors at 99989",
            ]
        );
        assert!(block_test_plan(11).is_none());
        assert_eq!(block_test_plan(12).unwrap()[5].start_sector, 0);
    }

    #[test]
    fn pattern_counts_down_and_repeats() {
        let buffers = pattern(64, 2);
        assert_eq!(buffers.len(), 2);
        assert_eq!(
            &buffers[0][..],
            b"2: All work and no play makes Dave a dull boy.\n2: All work and n"
        );
        assert!(buffers[1].starts_with(b"1: All"));
    }
}
