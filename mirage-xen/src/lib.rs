#![doc = include_str!("../README.md")]
#![warn(missing_docs)]
#![no_std]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

/// What `std`'s prelude would give, from `alloc` (the protocol layers build without `std`).
mod prelude {
    pub use alloc::borrow::ToOwned;
    pub use alloc::boxed::Box;
    pub use alloc::string::{String, ToString};
    pub use alloc::vec::Vec;
    pub use alloc::{format, vec};
}

pub mod abi;
pub mod back;
mod checksum;
pub mod front;
pub mod platform;
pub mod ring;
#[cfg(feature = "tool")]
pub mod tool;
pub mod xenbus;
pub mod xenstore;
pub mod xl;
