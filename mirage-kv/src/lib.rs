#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

#[cfg(feature = "crunch")]
mod crunch;
#[cfg(feature = "direct")]
mod direct;
#[cfg(feature = "fat")]
mod fat;
mod fs_kv;
#[cfg(feature = "fat")]
pub mod image;
mod key;

#[cfg(feature = "crunch")]
pub use crunch::Crunch;
#[cfg(feature = "direct")]
pub use direct::DirectKv;
#[cfg(feature = "fat")]
pub use fat::FatFs;
pub use fs_kv::FsKv;
/// Re-exported (a public dependency): derive `RustEmbed` on a struct naming the directory
/// for [`Crunch`], with `#[crate_path = "mirage_kv::rust_embed"]`.
#[cfg(feature = "crunch")]
pub use rust_embed::{self, RustEmbed};
