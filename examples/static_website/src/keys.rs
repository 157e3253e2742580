//! The example's command line: Mirage's stack keys, the store, and the server's ports.

use clap::{ArgAction, Parser, ValueEnum};
use mir_stackv4::keys::StackKeys;
use std::path::PathBuf;
use std::prelude::rust_2024::*;

/// Which store the pages come from (Mirage's `--kv-ro`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KvRoKind {
    /// The site compiled into the binary.
    Crunch,
    /// A host directory read live (`--htdocs`).
    Direct,
    /// A FAT image (`--image`), made by `make-fat-image.sh`.
    Fat,
}

/// Serves a static website over HTTP (and HTTPS) from a key/value store.
#[derive(Debug, Parser)]
#[command(name = "mir-static_website", version)]
pub struct Keys {
    /// The stack.
    #[command(flatten)]
    pub stack: StackKeys,
    /// The store: `crunch` (compiled in), `direct` (`--htdocs`) or `fat` (`--image`).
    #[arg(long = "kv-ro", value_enum, default_value_t = KvRoKind::Crunch)]
    pub kv_ro: KvRoKind,
    /// The directory of `--kv-ro direct`.
    #[arg(long, default_value = "site")]
    pub htdocs: PathBuf,
    /// The FAT image of `--kv-ro fat`.
    #[arg(long, default_value = "site.img")]
    pub image: PathBuf,
    /// The HTTP port.
    #[arg(long, default_value_t = 8080)]
    pub http_port: u16,
    /// Serve HTTPS too (the certificate and key come from the store's `tls/`); plain HTTP
    /// then redirects to it.
    #[arg(long, action = ArgAction::Set, default_value_t = false, value_name = "BOOL")]
    pub https: bool,
    /// The HTTPS port.
    #[arg(long, default_value_t = 4433)]
    pub https_port: u16,
    /// Connections served at once; more are closed at once.
    #[arg(long, default_value_t = 1024)]
    pub max_connections: usize,
    /// Seconds a client has for its TLS handshake and each request's head (1 to 86400).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub header_timeout: u64,
    /// Write the compiled-in site to this directory and exit (for `--kv-ro direct` and
    /// the FAT image).
    #[arg(long, value_name = "DIR")]
    pub write_site: Option<PathBuf>,
}

#[cfg(test)]
mod tests {
    use super::*;
    #[allow(unused_imports)]
    use crate::test_prelude::*;

    #[test]
    fn defaults_are_the_issue_s() {
        let keys = Keys::parse_from(["mir-static_website"]);
        assert_eq!((keys.http_port, keys.https_port), (8080, 4433));
        assert_eq!(keys.kv_ro, KvRoKind::Crunch);
        assert!(!keys.https);
        let keys = Keys::parse_from([
            "mir-static_website",
            "--net",
            "direct",
            "--kv-ro",
            "fat",
            "--https",
            "true",
            "--ip",
            "10.0.0.9",
        ]);
        assert_eq!(keys.kv_ro, KvRoKind::Fat);
        assert!(keys.https);
        assert_eq!(keys.stack.ip.to_string(), "10.0.0.9");
        assert!(Keys::try_parse_from(["mir-static_website", "--kv-ro", "zip"]).is_err());
        for timeout in ["0", "86401", "18446744073709551615"] {
            assert!(
                Keys::try_parse_from(["mir-static_website", "--header-timeout", timeout]).is_err(),
                "{timeout}"
            );
        }
    }
}
