#![doc = include_str!("../README.md")]
#![warn(missing_docs)]
#![no_std]

extern crate alloc;
#[cfg(any(test, feature = "std"))]
extern crate std;

/// What `std`'s prelude would give, from `alloc` (the crate builds without `std`).
#[allow(unused_imports)]
mod alloc_prelude {
    pub use alloc::borrow::ToOwned;
    pub use alloc::boxed::Box;
    pub use alloc::string::{String, ToString};
    pub use alloc::vec::Vec;
    pub use alloc::{format, vec};
}

#[cfg(any(feature = "direct", feature = "fat"))]
mod blocking;
#[cfg(feature = "conformance")]
pub mod conformance;
#[cfg(feature = "crunch")]
mod crunch;
#[cfg(feature = "direct")]
mod direct;
#[cfg(feature = "fat")]
mod fat;
mod fat_ro;
#[cfg(feature = "std")]
mod fs_kv;
#[cfg(feature = "fat")]
pub mod image;
mod key;
#[cfg(feature = "std")]
mod mem;
mod static_kv;
mod tree_index;

#[cfg(feature = "crunch")]
pub use crunch::Crunch;
#[cfg(feature = "direct")]
pub use direct::DirectKv;
#[cfg(feature = "fat")]
pub use fat::{FatFs, FatKv};
pub use fat_ro::FatRoKv;
#[cfg(feature = "std")]
pub use fs_kv::FsKv;
#[cfg(feature = "std")]
pub use mem::MemKv;
/// Re-exported (a public dependency): derive `RustEmbed` on a struct naming the directory
/// for [`Crunch`], with `#[crate_path = "mirage_kv::rust_embed"]`.
#[cfg(feature = "crunch")]
pub use rust_embed::{self, RustEmbed};
pub use static_kv::StaticKv;

/// The part of `value` from `offset`, at most `length` bytes.
pub(crate) fn window(value: bytes::Bytes, offset: u64, length: u64) -> bytes::Bytes {
    let len = value.len() as u64;
    let start = offset.min(len);
    let end = start.saturating_add(length).min(len);
    value.slice(start as usize..end as usize)
}
