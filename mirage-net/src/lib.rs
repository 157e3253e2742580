#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

mod adapter;
mod channel;
mod direct;
mod link;
mod pcap;
mod socket;

pub use adapter::FlowStream;
pub use channel::FlowChannel;
pub use direct::{
    Addressing, DirectArp, DirectEthif, DirectFlow, DirectIcmpv4, DirectIpv4, DirectStack,
    DirectTcp, DirectUdp,
};
pub use link::{LinkFaults, MemLink};
pub use pcap::Recorded;
pub use socket::{SocketFlow, SocketIpv4, SocketStack, SocketTcp, SocketUdp, StackConfig};
