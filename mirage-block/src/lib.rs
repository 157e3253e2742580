#![doc = include_str!("../README.md")]
#![warn(missing_docs)]
#![no_std]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

/// What `std`'s prelude would give, from `alloc` (the crate builds without `std`).
#[allow(unused_imports)]
mod prelude {
    pub use alloc::borrow::ToOwned;
    pub use alloc::boxed::Box;
    pub use alloc::string::{String, ToString};
    pub use alloc::vec::Vec;
    pub use alloc::{format, vec};
}

#[cfg(feature = "conformance")]
pub mod conformance;
#[cfg(feature = "std")]
mod file;
mod mem;

#[cfg(feature = "std")]
pub use file::{FileBlock, FileBlockOptions, IoCounters};
pub use mem::MemBlock;
