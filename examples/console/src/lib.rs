#![doc = include_str!("../README.md")]
#![warn(missing_docs)]
#![no_std]

pub mod unikernel;
