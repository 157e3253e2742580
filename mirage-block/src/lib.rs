#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

#[cfg(feature = "conformance")]
pub mod conformance;
mod file;
mod mem;

pub use file::{FileBlock, FileBlockOptions, IoCounters};
pub use mem::MemBlock;
