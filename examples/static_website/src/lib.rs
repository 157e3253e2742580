#![doc = include_str!("../README.md")]
#![warn(missing_docs)]
#![no_std]

extern crate alloc;
#[cfg(any(feature = "std", test))]
extern crate std;

pub mod body;
pub mod boot_keys;
pub mod http;
#[cfg(feature = "unix")]
pub mod keys;
pub mod mime;
pub mod range;
pub mod respond;
#[cfg(feature = "unix")]
pub mod site;
pub mod site_table;
#[cfg(feature = "unix")]
pub mod store;
pub mod tls;
pub mod unikernel;
pub mod validator;

/// What the unit tests use from `std` (the crate itself is `no_std`).
#[cfg(test)]
mod test_prelude {
    pub use std::boxed::Box;
    pub use std::string::{String, ToString};
    pub use std::vec::Vec;
    pub use std::{format, vec};
}
