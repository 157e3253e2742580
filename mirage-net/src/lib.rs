#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

mod adapter;
mod channel;
#[cfg(feature = "direct")]
mod direct;
mod link;
mod pcap;
#[cfg(feature = "socket")]
mod socket;
#[cfg(any(feature = "socket", feature = "direct"))]
mod stall;
#[cfg(any(feature = "socket", feature = "direct"))]
mod stop;
mod waiter;

pub use adapter::FlowStream;
pub use channel::FlowChannel;
#[cfg(feature = "direct")]
pub use direct::{
    Addressing, DirectArp, DirectEthif, DirectFlow, DirectIcmpv4, DirectIpv4, DirectStack,
    DirectTcp, DirectTcpListener, DirectUdp, DirectUdpListener,
};
pub use link::{LinkFaults, MemLink};
pub use pcap::Recorded;
#[cfg(feature = "socket")]
pub use socket::{
    SocketFlow, SocketIpv4, SocketStack, SocketTcp, SocketTcpListener, SocketUdp,
    SocketUdpListener, StackConfig,
};
