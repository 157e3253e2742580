#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub mod keys;
pub mod protocol;
pub mod unikernel;
