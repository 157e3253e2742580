//! A FAT directory's 32-byte entries: short (8.3) entries and the long-name entries before
//! them, read into names as `mkfs.fat`, mtools and Linux write them.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

const ATTR_VOLUME: u8 = 0x08;
const ATTR_DIRECTORY: u8 = 0x10;
const ATTR_LONG_NAME: u8 = 0x0f;

/// One file or directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Node {
    /// The long name if the entry has a whole one, else the short name (lower-cased where
    /// its case bits say, as Windows and Linux show it).
    pub(crate) name: String,
    pub(crate) directory: bool,
    /// 0 for an empty file.
    pub(crate) first_cluster: u32,
    pub(crate) size: u32,
}

/// The checksum of a short name that its long-name entries carry.
fn checksum(short: &[u8]) -> u8 {
    short[..11]
        .iter()
        .fold(0u8, |sum, &b| sum.rotate_right(1).wrapping_add(b))
}

/// The short name of an entry: base and extension without their padding, each lower-cased
/// when its case bit (byte 12: 0x08 base, 0x10 extension) is set.
fn short_name(entry: &[u8]) -> String {
    let part = |bytes: &[u8], lower: bool| -> String {
        let text: String = bytes
            .iter()
            .map(|&b| char::from(if b < 0x80 { b } else { b'_' }))
            .collect();
        let text = text.trim_end_matches(' ');
        if lower {
            text.to_ascii_lowercase()
        } else {
            text.to_owned()
        }
    };
    let mut base = entry[..8].to_vec();
    if base[0] == 0x05 {
        base[0] = 0xe5;
    }
    let base = part(&base, entry[12] & 0x08 != 0);
    let extension = part(&entry[8..11], entry[12] & 0x10 != 0);
    if extension.is_empty() {
        base
    } else {
        format!("{base}.{extension}")
    }
}

/// A long name being collected from its entries (which come last part first).
#[derive(Default)]
struct LongName {
    /// UTF-16 units by part (part 1 first).
    parts: Vec<Option<[u16; 13]>>,
    checksum: u8,
}

impl LongName {
    fn add(&mut self, entry: &[u8]) {
        let order = entry[0];
        let part = usize::from(order & 0x1f);
        if part == 0 {
            *self = LongName::default();
            return;
        }
        if order & 0x40 != 0 {
            *self = LongName {
                parts: vec![None; part],
                checksum: entry[13],
            };
        }
        if part > self.parts.len() || entry[13] != self.checksum {
            *self = LongName::default();
            return;
        }
        let mut units = [0u16; 13];
        for (unit, at) in units
            .iter_mut()
            .zip([1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30])
        {
            *unit = u16::from_le_bytes([entry[at], entry[at + 1]]);
        }
        self.parts[part - 1] = Some(units);
    }

    /// The name, if every part came and they belong to the short entry `short`.
    fn finish(&mut self, short: &[u8]) -> Option<String> {
        let parts = core::mem::take(&mut self.parts);
        if parts.is_empty() || self.checksum != checksum(short) {
            return None;
        }
        let mut units = Vec::with_capacity(parts.len() * 13);
        for part in parts {
            units.extend_from_slice(&part?);
        }
        let end = units
            .iter()
            .position(|&u| u == 0 || u == 0xffff)
            .unwrap_or(units.len());
        char::decode_utf16(units[..end].iter().copied())
            .collect::<Result<String, _>>()
            .ok()
            .filter(|name| !name.is_empty())
    }
}

/// The files and directories in a directory's bytes (`.` and `..` left out), up to its end
/// marker.
pub(crate) fn parse(bytes: &[u8]) -> Vec<Node> {
    let mut nodes = Vec::new();
    let mut long = LongName::default();
    for entry in bytes.chunks_exact(32) {
        match entry[0] {
            0 => break,
            0xe5 => {
                long = LongName::default();
                continue;
            }
            _ => {}
        }
        let attributes = entry[11];
        if attributes & 0x3f == ATTR_LONG_NAME {
            long.add(entry);
            continue;
        }
        let long_name = long.finish(entry);
        if attributes & ATTR_VOLUME != 0
            || entry[..11] == *b".          "
            || entry[..11] == *b"..         "
        {
            continue;
        }
        let cluster = u32::from(u16::from_le_bytes([entry[26], entry[27]]))
            | (u32::from(u16::from_le_bytes([entry[20], entry[21]])) << 16);
        nodes.push(Node {
            name: long_name.unwrap_or_else(|| short_name(entry)),
            directory: attributes & ATTR_DIRECTORY != 0,
            first_cluster: cluster,
            size: u32::from_le_bytes([entry[28], entry[29], entry[30], entry[31]]),
        });
    }
    nodes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn short(name: &[u8; 11], attributes: u8, case: u8) -> [u8; 32] {
        let mut entry = [0u8; 32];
        entry[..11].copy_from_slice(name);
        entry[11] = attributes;
        entry[12] = case;
        entry[26] = 3;
        entry[28] = 4;
        entry
    }

    fn long_part(order: u8, text: &str, sum: u8) -> [u8; 32] {
        let mut entry = [0u8; 32];
        entry[0] = order;
        entry[11] = ATTR_LONG_NAME;
        entry[13] = sum;
        let mut units: Vec<u16> = text.encode_utf16().collect();
        if units.len() < 13 {
            units.push(0);
        }
        units.resize(13, 0xffff);
        for (unit, at) in units
            .iter()
            .zip([1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30])
        {
            entry[at..at + 2].copy_from_slice(&unit.to_le_bytes());
        }
        entry
    }

    #[test]
    fn short_names_take_their_case_bits() {
        let entries = [
            short(b"A          ", 0x20, 0x08),
            short(b"README  TXT", 0x20, 0x10),
        ];
        let nodes = parse(&entries.concat());
        let names: Vec<&str> = nodes.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["a", "README.txt"]);
        assert_eq!((nodes[0].first_cluster, nodes[0].size), (3, 4));
    }

    #[test]
    fn long_names_are_read_in_order_and_checked() {
        let alias = short(b"HELLOW~1TXT", 0x20, 0);
        let sum = checksum(&alias);
        let name = "hello world, a long name.txt";
        let entries = [
            long_part(0x43, &name[26..], sum),
            long_part(2, &name[13..26], sum),
            long_part(1, &name[..13], sum),
            alias,
        ];
        assert_eq!(parse(&entries.concat())[0].name, name);
        // A wrong checksum (an orphaned long name): the short name.
        let entries = [long_part(0x41, "other", sum ^ 1), alias];
        assert_eq!(parse(&entries.concat())[0].name, "HELLOW~1.TXT");
        // A missing part: the short name.
        let entries = [long_part(0x42, "x", sum), alias];
        assert_eq!(parse(&entries.concat())[0].name, "HELLOW~1.TXT");
    }

    #[test]
    fn deleted_dot_and_volume_entries_are_skipped_and_the_end_stops() {
        let mut deleted = short(b"GONE       ", 0x20, 0);
        deleted[0] = 0xe5;
        let entries = [
            short(b".          ", 0x10, 0),
            short(b"..         ", 0x10, 0),
            short(b"LABEL      ", 0x08, 0),
            deleted,
            short(b"SUB        ", 0x10, 0),
            [0; 32],
            short(b"AFTER      ", 0x20, 0),
        ];
        let nodes = parse(&entries.concat());
        assert_eq!(nodes.len(), 1);
        assert!(nodes[0].directory && nodes[0].name == "SUB");
    }

    #[test]
    fn any_bytes_parse_without_panicking() {
        let mut state = 0x1234_5678u32;
        for _ in 0..2000 {
            let bytes: Vec<u8> = (0..32 * 8)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 17;
                    state ^= state << 5;
                    state as u8
                })
                .collect();
            let _ = parse(&bytes);
        }
    }
}
