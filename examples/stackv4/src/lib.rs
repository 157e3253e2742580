#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub mod keys;
pub mod palette;
pub mod stack;
pub mod unikernel;
