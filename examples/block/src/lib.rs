#![doc = include_str!("../README.md")]
#![warn(missing_docs)]
#![no_std]

extern crate alloc;

pub mod unikernel;
