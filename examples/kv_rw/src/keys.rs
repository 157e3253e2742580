//! The example's command line: the stack keys and the store.

use clap::{Parser, ValueEnum};
use mir_stackv4::keys::StackKeys;
use std::path::PathBuf;

/// Which store holds the data (`--kv-rw`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Store {
    /// A FAT disk image (`--image`), made and formatted when missing.
    Fat,
    /// A host directory (`--dir`), made when missing.
    Direct,
    /// Memory: nothing outlives the process.
    Mem,
}

/// A persistent key/value store over TCP (MirageOS's kv_rw example).
#[derive(Debug, Parser)]
#[command(name = "mir-kv_rw", version)]
pub struct Keys {
    /// The stack.
    #[command(flatten)]
    pub stack: StackKeys,
    /// The store: `fat` (a disk image), `direct` (a directory) or `mem`.
    #[arg(long, value_enum, default_value_t = Store::Fat)]
    pub kv_rw: Store,
    /// The FAT image of `--kv-rw fat`.
    #[arg(long, default_value = "kv_rw.img")]
    pub image: PathBuf,
    /// The size of a FAT image made anew, in MiB (1 to 4096).
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub image_mib: u64,
    /// The directory of `--kv-rw direct`.
    #[arg(long, default_value = "kv_rw.d")]
    pub dir: PathBuf,
    /// The TCP port to serve on (0: any free port, said on the console).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_bad_values() {
        let keys = Keys::parse_from(["mir-kv_rw"]);
        assert_eq!(
            (keys.kv_rw, keys.port, keys.image_mib),
            (Store::Fat, 8080, 16)
        );
        assert!(Keys::try_parse_from(["mir-kv_rw", "--kv-rw", "ftp"]).is_err());
        assert!(Keys::try_parse_from(["mir-kv_rw", "--image-mib", "0"]).is_err());
    }
}
