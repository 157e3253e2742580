#![doc = include_str!("../README.md")]
#![warn(missing_docs)]
#![no_std]

extern crate alloc;
#[cfg(any(test, feature = "std"))]
extern crate std;

/// What `std`'s prelude would give, from `alloc` (the crate builds without `std`).
#[allow(unused_imports)]
mod alloc_prelude {
    pub use alloc::borrow::ToOwned;
    pub use alloc::boxed::Box;
    pub use alloc::string::{String, ToString};
    pub use alloc::vec::Vec;
    pub use alloc::{format, vec};
}

#[cfg(feature = "std")]
mod adapter;
#[cfg(any(feature = "socket", feature = "direct"))]
mod addr;
mod channel;
#[cfg(feature = "direct")]
mod direct;
#[cfg(feature = "std")]
mod link;
#[cfg(feature = "std")]
mod pcap;
mod platform;
#[cfg(any(feature = "socket", feature = "direct"))]
mod signal;
#[cfg(feature = "socket")]
mod socket;
#[cfg(any(feature = "socket", feature = "direct"))]
mod stall;
#[cfg(any(feature = "std", feature = "direct"))]
mod waiter;

#[cfg(feature = "std")]
pub use adapter::FlowStream;
pub use channel::FlowChannel;
#[cfg(feature = "direct")]
pub use direct::{
    Addressing, DirectArp, DirectEthif, DirectFlow, DirectIcmpv4, DirectIpv4, DirectPing,
    DirectStack, DirectTcp, DirectTcpListener, DirectTcpListenerV4V6, DirectTcpV4V6, DirectUdp,
    DirectUdpListener, DirectUdpListenerV4V6, DirectUdpV4V6, MAX_PING_PAYLOAD,
};
#[cfg(feature = "std")]
pub use link::{LinkFaults, MemLink};
#[cfg(feature = "std")]
pub use pcap::Recorded;
pub use platform::StackPlatform;
#[cfg(feature = "socket")]
pub use socket::{
    SocketFlow, SocketIpv4, SocketStack, SocketTcp, SocketTcpListener, SocketTcpListenerV4V6,
    SocketTcpV4V6, SocketUdp, SocketUdpListener, SocketUdpListenerV4V6, SocketUdpV4V6, StackConfig,
};
