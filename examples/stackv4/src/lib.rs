#![doc = include_str!("../README.md")]
#![warn(missing_docs)]
#![no_std]

extern crate alloc;
#[cfg(any(test, feature = "unix"))]
extern crate std;

pub mod addressed;
pub mod boot_keys;
pub mod dual;
#[cfg(feature = "unix")]
pub mod keys;
pub mod palette;
pub mod ping;
#[cfg(feature = "unix")]
pub mod stack;
pub mod unikernel;
pub mod values;
