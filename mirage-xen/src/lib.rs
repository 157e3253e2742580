#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub mod abi;
pub mod platform;
pub mod ring;
