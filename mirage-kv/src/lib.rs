#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

mod crunch;
mod direct;
mod fat;
mod fs_kv;
pub mod image;
mod key;

pub use crunch::Crunch;
pub use direct::DirectKv;
pub use fat::FatFs;
pub use fs_kv::FsKv;
/// Re-exported: derive `RustEmbed` on a struct naming the directory for [`Crunch`].
pub use rust_embed::{self, RustEmbed};
