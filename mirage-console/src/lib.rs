#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

mod mem;
mod unix;

pub use mem::MemConsole;
pub use unix::UnixConsole;
