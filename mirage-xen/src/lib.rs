#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub mod abi;
pub mod back;
pub mod front;
pub mod platform;
pub mod ring;
pub mod xenbus;
pub mod xenstore;
pub mod xl;
