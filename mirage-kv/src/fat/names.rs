//! FAT's name rules, and finding a name as it is spelt (FAT itself ignores case).

#[allow(unused_imports)]
use crate::alloc_prelude::*;

use fatfs::{Dir, DirEntry, ReadWriteSeek};
use std::io;

/// Names beginning so belong to [`super::FatKv`] (values being written, the journal): no key
/// may use one, and listings never show them.
pub(crate) const RESERVED_PREFIX: &str = ".~kv";

/// The longest name a key segment may have: FAT's 255 characters less the prefix of the
/// store's temporary names.
pub(crate) const MAX_NAME_CHARS: usize = 255 - 6;

/// Why `name` cannot be a FAT long name written by the store, or `None` when it can.
pub(crate) fn refusal(name: &str) -> Option<String> {
    const FORBIDDEN: &[char] = &['"', '*', '/', ':', '<', '>', '?', '\\', '|'];
    if name.starts_with(RESERVED_PREFIX) {
        return Some(format!(
            "names beginning {RESERVED_PREFIX} are the store's own"
        ));
    }
    if name.encode_utf16().count() > MAX_NAME_CHARS {
        return Some(format!(
            "FAT names here are at most {MAX_NAME_CHARS} characters"
        ));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| FORBIDDEN.contains(c) || u32::from(*c) < 0x20 || *c == '\u{7f}')
    {
        return Some(format!(
            "FAT names may not contain {bad:?} (nor any of \" * : < > ? \\ | or control characters)"
        ));
    }
    if name.ends_with('.') || name.ends_with(' ') {
        return Some("FAT names may not end with a dot or a space".into());
    }
    None
}

/// What looking a name up in a directory found.
pub(crate) enum Found<'a, T: ReadWriteSeek> {
    /// An entry spelt exactly so.
    Entry(DirEntry<'a, T>),
    /// Nothing by that name.
    Missing,
    /// An entry FAT takes for the same name, spelt differently (another case, or the name is
    /// the entry's 8.3 short name): its stored name.
    Conflict(String),
}

/// The entry of `dir` called exactly `name`.
pub(crate) fn find_exact<'a, T: ReadWriteSeek>(
    dir: &Dir<'a, T>,
    name: &str,
) -> io::Result<Found<'a, T>> {
    let folded = name.to_lowercase();
    let mut conflict = None;
    for entry in dir.iter() {
        let entry = entry?;
        let stored = entry.file_name();
        if stored == "." || stored == ".." {
            continue;
        }
        if stored == name {
            return Ok(Found::Entry(entry));
        }
        if stored.to_lowercase() == folded || entry.short_file_name().eq_ignore_ascii_case(name) {
            conflict = Some(stored);
        }
    }
    Ok(conflict.map_or(Found::Missing, Found::Conflict))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fat_rules_are_explained() {
        assert_eq!(refusal("index.html"), None);
        assert_eq!(refusal("ünïcödé ok"), None);
        for bad in [
            "a:b", "a*", "what?", "a\\b", "pipe|", "q\"", "<x>", "tab\t", "end.", "end ",
        ] {
            assert!(refusal(bad).is_some(), "{bad}");
        }
        assert!(refusal(&"x".repeat(MAX_NAME_CHARS)).is_none());
        assert!(
            refusal(&"x".repeat(MAX_NAME_CHARS + 1))
                .unwrap()
                .contains("at most")
        );
        assert!(refusal(".~kvN.a").unwrap().contains("store's own"));
    }
}
