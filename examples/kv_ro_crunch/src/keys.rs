//! The kv_ro examples' key values, parsed by the same functions on Unix (clap) and in a
//! unikernel (its command line), so that both refuse a bad value in the same words.

use alloc::format;
use alloc::string::String;

/// `--count`: how many rounds before stopping.
pub fn rounds(text: &str) -> Result<u64, String> {
    text.parse()
        .map_err(|_| format!("{text:?} is not a number of rounds"))
}

/// The stores a unikernel has (Unix's `direct`, a host directory, it has not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnikernelStore {
    /// `t/` compiled in.
    Crunch,
    /// The FAT volume on the machine's first disk.
    Fat,
}

/// A kv_ro unikernel's boot keys: `--kv-ro crunch|fat` and `--count N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnikernelKeys {
    /// `--kv-ro` (default crunch).
    pub store: UnikernelStore,
    /// `--count` (default: without end).
    pub count: Option<u64>,
}

impl UnikernelKeys {
    /// Parses a unikernel's command line; the error names the key and what is wrong.
    pub fn parse(command_line: &str) -> Result<UnikernelKeys, String> {
        let mut keys = UnikernelKeys {
            store: UnikernelStore::Crunch,
            count: None,
        };
        mirage_types::apply_boot_keys(command_line, "--kv-ro, --count", |key, value| {
            Some(match (key, value) {
                ("kv-ro", "crunch") => {
                    keys.store = UnikernelStore::Crunch;
                    Ok(())
                }
                ("kv-ro", "fat") => {
                    keys.store = UnikernelStore::Fat;
                    Ok(())
                }
                ("kv-ro", "direct") => Err("a unikernel has no host directory".into()),
                ("kv-ro", _) => Err("it is crunch or fat".into()),
                ("count", _) => rounds(value).map(|n| keys.count = Some(n)),
                _ => return None,
            })
        })?;
        Ok(keys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unikernel_keys_take_both_stores_and_refuse_the_rest() {
        let keys = UnikernelKeys::parse("--kv-ro fat --count 3").unwrap();
        assert_eq!((keys.store, keys.count), (UnikernelStore::Fat, Some(3)));
        assert_eq!(
            UnikernelKeys::parse("").unwrap().store,
            UnikernelStore::Crunch
        );
        for bad in ["--kv-ro direct", "--kv-ro nfs", "--count x", "--colour red"] {
            assert!(UnikernelKeys::parse(bad).is_err(), "{bad}");
        }
    }
}
