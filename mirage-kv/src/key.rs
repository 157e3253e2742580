//! Keys: `/`-separated names, with or without a leading `/`.

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
