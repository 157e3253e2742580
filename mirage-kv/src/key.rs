//! Keys: `/`-separated names, with or without a leading `/`.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

use mirage_types::KvError;

/// The segments of `key` (`"/a/b"` and `"a/b/"` give `["a", "b"]`; `""` and `"/"` give none).
/// A key with an empty, `.` or `..` segment, or a NUL byte, names nothing: it is refused as an
/// unknown key.
pub(crate) fn segments(key: &str) -> Result<Vec<&str>, KvError> {
    let trimmed = key.trim_matches('/');
    if trimmed.is_empty() {
        return Ok(Vec::new());
    }
    let parts: Vec<&str> = trimmed.split('/').collect();
    if key.contains('\0')
        || parts
            .iter()
            .any(|p| p.is_empty() || *p == "." || *p == "..")
    {
        return Err(KvError::UnknownKey(key.to_owned()));
    }
    Ok(parts)
}

#[cfg_attr(not(any(feature = "crunch", feature = "direct")), allow(dead_code))]
/// `key` in its canonical form: segments joined by `/`, no leading or trailing `/`.
pub(crate) fn normalise(key: &str) -> Result<String, KvError> {
    Ok(segments(key)?.join("/"))
}

#[cfg(feature = "std")]
/// The segments of a key a write names: as [`segments`], but a hostile key (an empty, `.`
/// or `..` segment, a NUL byte) is [`KvError::InvalidKey`], the error a writer can act on.
pub(crate) fn write_segments(key: &str) -> Result<Vec<&str>, KvError> {
    segments(key).map_err(|_| {
        KvError::invalid_key(
            key,
            "keys are names separated by `/`; `.`, `..`, empty names and NUL bytes are not allowed",
        )
    })
}

#[cfg(feature = "std")]
/// Where `rename(source, dest)` puts the source: `dest` itself, or `dest/<source's last
/// segment>` when `dest` is an existing dictionary (`dest_is_dictionary`). `None` when source
/// and destination are the same key (nothing to do). Both keys in canonical form.
pub(crate) fn rename_target(
    source: &str,
    dest: &str,
    dest_is_dictionary: bool,
) -> Result<Option<(String, String)>, KvError> {
    let from = write_segments(source)?;
    let to = write_segments(dest)?;
    let Some(name) = from.last() else {
        return Err(KvError::invalid_key(source, "the root cannot be renamed"));
    };
    let mut target: Vec<&str> = to.clone();
    if dest_is_dictionary {
        target.push(name);
    }
    if target == from {
        return Ok(None);
    }
    if target.len() > from.len() && target.starts_with(&from) {
        return Err(KvError::RenameSourcePrefix {
            source_key: source.to_owned(),
            dest: dest.to_owned(),
        });
    }
    Ok(Some((from.join("/"), target.join("/"))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_normalise_and_hostile_ones_are_refused() {
        assert_eq!(normalise("a").unwrap(), "a");
        assert_eq!(normalise("/a/b/").unwrap(), "a/b");
        assert_eq!(normalise("/").unwrap(), "");
        for bad in ["../etc/passwd", "a/../../b", "a//b", "./a", "a\0b"] {
            assert_eq!(
                normalise(bad),
                Err(KvError::UnknownKey(bad.into())),
                "{bad}"
            );
        }
    }
}

#[cfg(test)]
mod write_tests {
    use super::*;

    #[test]
    fn rename_targets_follow_mirage_4() {
        assert_eq!(
            rename_target("a/b", "c", false).unwrap(),
            Some(("a/b".into(), "c".into()))
        );
        assert_eq!(
            rename_target("/a/b/", "c", true).unwrap(),
            Some(("a/b".into(), "c/b".into()))
        );
        assert_eq!(rename_target("a", "a", false).unwrap(), None);
        assert_eq!(rename_target("a/b", "a", true).unwrap(), None);
        assert!(matches!(
            rename_target("a", "a/b", false),
            Err(KvError::RenameSourcePrefix { .. })
        ));
        assert!(matches!(
            rename_target("a", "a", true),
            Err(KvError::RenameSourcePrefix { .. })
        ));
        assert!(matches!(
            rename_target("/", "x", false),
            Err(KvError::InvalidKey { .. })
        ));
        assert!(matches!(
            rename_target("a", "../x", false),
            Err(KvError::InvalidKey { .. })
        ));
    }
}
