//! A repair for directories `fatfs` 0.3.6 creates.
//!
//! `fatfs` 0.3.6 gives the `.` and `..` entries of a new directory long-name entries of their
//! own, so they are not the first two entries of the directory as FAT requires; `fsck.fat`
//! then reports the directory as damaged. Before a written sector is committed, this finds
//! that layout at the start of the sector (a new directory starts a cluster) and rewrites it
//! as FAT has it: `.`, `..`, then two deleted slots.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

const ENTRY: usize = 32;
const ATTR_LONG_NAME: u8 = 0x0F;
const ATTR_DIRECTORY: u8 = 0x10;
const DELETED: u8 = 0xE5;

/// Whether `entry` is the single long-name entry of a name of `dots` dots.
fn is_long_dots(entry: &[u8], dots: usize) -> bool {
    let name: Vec<u8> = [1usize, 3, 5]
        .iter()
        .flat_map(|&i| [entry[i], entry[i + 1]])
        .collect();
    let expected: Vec<u8> = (0..3)
        .flat_map(|i| {
            if i < dots {
                [b'.', 0]
            } else if i == dots {
                [0, 0]
            } else {
                [0xFF, 0xFF]
            }
        })
        .collect();
    entry[0] == 0x41 && entry[11] == ATTR_LONG_NAME && name == expected
}

/// Whether `entry` is the short entry `.` or `..` of a directory.
fn is_short_dots(entry: &[u8], dots: usize) -> bool {
    let mut name = [b' '; 11];
    name[..dots].fill(b'.');
    entry[..11] == name && entry[11] & ATTR_DIRECTORY != 0
}

/// Rewrites the `fatfs` 0.3.6 dot-entry layout at the start of `sector`, if it is there.
pub(crate) fn repair(sector: &mut [u8]) {
    if sector.len() < 4 * ENTRY {
        return;
    }
    let entry = |i: usize| &sector[i * ENTRY..(i + 1) * ENTRY];
    if !(is_long_dots(entry(0), 1)
        && is_short_dots(entry(1), 1)
        && is_long_dots(entry(2), 2)
        && is_short_dots(entry(3), 2))
    {
        return;
    }
    let dot: Vec<u8> = entry(1).to_vec();
    let dot_dot: Vec<u8> = entry(3).to_vec();
    sector[..ENTRY].copy_from_slice(&dot);
    sector[ENTRY..2 * ENTRY].copy_from_slice(&dot_dot);
    for slot in 2..4 {
        let bytes = &mut sector[slot * ENTRY..(slot + 1) * ENTRY];
        bytes.fill(0);
        bytes[0] = DELETED;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn long(dots: usize) -> [u8; 32] {
        let mut e = [0u8; 32];
        e[0] = 0x41;
        e[11] = ATTR_LONG_NAME;
        let mut chars = [0xFFu8; 26];
        for i in 0..dots {
            chars[i * 2] = b'.';
            chars[i * 2 + 1] = 0;
        }
        chars[dots * 2] = 0;
        chars[dots * 2 + 1] = 0;
        for (slot, &i) in [1usize, 3, 5, 7, 9].iter().enumerate() {
            e[i] = chars[slot * 2];
            e[i + 1] = chars[slot * 2 + 1];
        }
        e
    }

    fn short(dots: usize) -> [u8; 32] {
        let mut e = [0u8; 32];
        e[..11].fill(b' ');
        e[..dots].fill(b'.');
        e[11] = ATTR_DIRECTORY;
        e[26] = 7; // cluster
        e
    }

    #[test]
    fn repairs_the_fatfs_layout_and_nothing_else() {
        let mut sector = [long(1), short(1), long(2), short(2)].concat();
        sector.resize(512, 0);
        repair(&mut sector);
        assert_eq!(&sector[..32], &short(1));
        assert_eq!(&sector[32..64], &short(2));
        assert_eq!(sector[64], DELETED);
        assert_eq!(sector[96], DELETED);

        let mut proper = [short(1), short(2)].concat();
        proper.resize(512, 0);
        let before = proper.clone();
        repair(&mut proper);
        assert_eq!(proper, before);
    }
}
