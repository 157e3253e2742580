//! The kv_ro examples' key values, parsed by the same functions on Unix (clap) and in a
//! unikernel (its command line), so that both refuse a bad value in the same words.

use alloc::format;
use alloc::string::String;

/// `--count`: how many rounds before stopping.
pub fn rounds(text: &str) -> Result<u64, String> {
    text.parse()
        .map_err(|_| format!("{text:?} is not a number of rounds"))
}
