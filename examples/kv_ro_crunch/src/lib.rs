#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub mod unikernel;

use mirage_kv::RustEmbed;

/// The example's `t/` directory, compiled in: `a` is `foo\n`, `b` is `bar\n`.
#[derive(RustEmbed)]
#[folder = "t/"]
#[crate_path = "mirage_kv::rust_embed"]
pub struct Static1;
