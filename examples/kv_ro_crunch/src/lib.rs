#![doc = include_str!("../README.md")]
#![warn(missing_docs)]
#![no_std]

extern crate alloc;
#[cfg(feature = "unix")]
extern crate std;

pub mod keys;
pub mod unikernel;

/// The example's `t/` directory as the build script compiled it in, for
/// `mirage_kv::StaticKv` (what the unikernel reads, where rust-embed cannot go).
pub static T: &[(&str, &[u8])] = include!(concat!(env!("OUT_DIR"), "/t.rs"));

/// The example's `t/` directory, compiled in through rust-embed: `a` is `foo\n`, `b` is
/// `bar\n`.
#[cfg(feature = "unix")]
#[derive(mirage_kv::RustEmbed)]
#[folder = "t/"]
#[crate_path = "mirage_kv::rust_embed"]
pub struct Static1;
