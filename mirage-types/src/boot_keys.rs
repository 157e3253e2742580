//! A unikernel's keys on its kernel command line (`extra =` in a Xen `.xl`), as Mirage
//! unikernels take theirs: `--key value` or `--key=value`, separated by spaces.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

/// The `(key, value)` pairs of `command_line`, keys without their `--`, in order; what each
/// value means is for the application to parse (with the same functions as its Unix
/// command line, so that both refuse a bad value in the same words). A word that is not a
/// key, or a key without a value, is an error naming it.
///
/// ```
/// let keys = mirage_types::boot_keys("--ip=10.0.0.5 --dhcp false").unwrap();
/// assert_eq!(keys, [("ip", "10.0.0.5"), ("dhcp", "false")]);
/// assert!(mirage_types::boot_keys("--ip").unwrap_err().contains("--ip needs a value"));
/// assert!(mirage_types::boot_keys("10.0.0.5").unwrap_err().contains("unexpected argument"));
/// ```
pub fn boot_keys(command_line: &str) -> Result<Vec<(&str, &str)>, String> {
    let mut keys = Vec::new();
    let mut words = command_line.split_whitespace();
    while let Some(word) = words.next() {
        let Some(key) = word.strip_prefix("--") else {
            return Err(format!("unexpected argument '{word}' (keys start with --)"));
        };
        let pair = match key.split_once('=') {
            Some(pair) => pair,
            None => match words.next() {
                Some(value) => (key, value),
                None => return Err(format!("--{key} needs a value")),
            },
        };
        keys.push(pair);
    }
    Ok(keys)
}

/// Parses `command_line` with [`boot_keys`] and hands each pair to `set`, which returns
/// `None` for a key it does not take, or the value's parse. The errors are worded alike for
/// every unikernel: `--colour: no such key (the keys: KEYS)`, `invalid value '224.0.0.1'
/// for '--ip': WHY`.
///
/// ```
/// let mut count = None;
/// let parsed = mirage_types::apply_boot_keys("--count 3", "--count", |key, value| match key {
///     "count" => Some(value.parse().map(|n: u64| count = Some(n)).map_err(|e| e.to_string())),
///     _ => None,
/// });
/// assert_eq!((parsed, count), (Ok(()), Some(3)));
/// let error = mirage_types::apply_boot_keys("--colour never", "--count", |_, _| None);
/// assert_eq!(error.unwrap_err(), "--colour: no such key (the keys: --count)");
/// ```
pub fn apply_boot_keys(
    command_line: &str,
    keys: &str,
    mut set: impl FnMut(&str, &str) -> Option<Result<(), String>>,
) -> Result<(), String> {
    for (key, value) in boot_keys(command_line)? {
        match set(key, value) {
            None => return Err(format!("--{key}: no such key (the keys: {keys})")),
            Some(Err(why)) => return Err(format!("invalid value '{value}' for '--{key}': {why}")),
            Some(Ok(())) => {}
        }
    }
    Ok(())
}
