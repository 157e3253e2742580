#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub mod body;
pub mod keys;
pub mod mime;
pub mod range;
pub mod respond;
pub mod site;
pub mod store;
pub mod tls;
pub mod unikernel;
pub mod validator;
