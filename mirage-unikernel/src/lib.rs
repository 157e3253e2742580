#![doc = include_str!("../README.md")]
#![no_std]
#![warn(missing_docs)]

extern crate alloc;

pub mod executor;
pub mod heap;
#[cfg(feature = "kernel")]
mod kernel;
#[cfg(feature = "kernel")]
pub mod libc;
pub mod platform;
#[cfg(target_arch = "x86_64")]
pub mod random;
pub mod time;

pub use executor::block_on;
#[cfg(feature = "kernel")]
pub use kernel::run;
pub use platform::{Exit, Platform, install, platform};
pub use time::{KernelClock, KernelMonotonicClock, KernelTime, Sleep};
