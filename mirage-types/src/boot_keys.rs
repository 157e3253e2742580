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
