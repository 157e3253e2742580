#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

mod adapter;
mod channel;
mod socket;

pub use adapter::FlowStream;
pub use channel::FlowChannel;
pub use socket::{SocketFlow, SocketIpv4, SocketStack, SocketTcp, SocketUdp, StackConfig};
