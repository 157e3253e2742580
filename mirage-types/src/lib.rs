#![doc = include_str!("../README.md")]
#![warn(missing_docs)]
#![no_std]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

/// What `std`'s prelude would give, from `alloc` (the crate builds without `std`).
mod alloc_prelude {
    pub use alloc::borrow::ToOwned;
    pub use alloc::boxed::Box;
    pub use alloc::string::{String, ToString};
    pub use alloc::vec::Vec;
    pub use alloc::{format, vec};
}

mod arp;
mod block;
mod boot_keys;
mod callbacks;
mod channel;
mod clock;
mod console;
mod device;
mod either;
mod error;
mod error_kind;
mod ethif;
mod flow;
mod fs;
pub mod guide;
mod icmpv4;
#[cfg(feature = "std")]
mod io_error;
mod ipv4;
mod ipv4_only;
mod ipv6;
mod kv;
mod kv_rw;
mod listener;
mod mac;
mod monotonic_clock;
mod network;
mod pointers;
pub mod prelude;
mod random;
mod stackv4;
mod stackv4v6;
mod tcpv4;
mod tcpv4v6;
mod time;
mod udpv4;
mod udpv4v6;

pub use arp::{Arp, ArpError};
pub use block::{Block, BlockError, BlockInfo, check_request};
pub use boot_keys::{apply_boot_keys, boot_keys};
pub use callbacks::{
    CallbackRegistry, DatagramCallback, UDP_CALLBACKS_IN_FLIGHT, serve_callbacks,
    serve_callbacks_v4v6,
};
pub use channel::{Channel, ChannelError, ChannelResult};
pub use clock::{Clock, Tm};
pub use console::{Console, ConsoleError};
pub use device::Device;
pub use either::Either;
pub use error::Error;
pub use error_kind::ErrorKind;
pub use ethif::{
    ETHERNET_HEADER_LEN, ETHERTYPE_ARP, ETHERTYPE_IPV4, ETHERTYPE_IPV6, EthernetHandlers, Ethif,
};
pub use flow::{Flow, Read};
pub use fs::{Fs, FsError, Stat};
pub use icmpv4::{IcmpError, Icmpv4};
#[cfg(feature = "std")]
pub use io_error::IoError;
pub use ipv4::{IpError, Ipv4, Ipv4Config, check_host_address, netmask_prefix_len};
pub use ipv4_only::Ipv4Only;
pub use ipv6::{IpCidr, Ipv6Config, check_host_address_v6};
pub use kv::{DIGEST_CHUNK, Entry, KvError, KvRo, hex_sha256};
pub use kv_rw::KvRw;
pub use listener::{TcpListener, UdpListener};
pub use mac::{MacAddr, ParseMacError};
pub use monotonic_clock::MonotonicClock;
pub use network::{
    FrameHandler, NetError, Network, Stats, StatsCounter, frame_handler, frame_handler_now,
};
pub use random::{INT_BOUND_LIMIT, Random, RandomError};
pub use stackv4::{StackError, StackFlow, StackV4};
pub use stackv4v6::{StackFlowV4V6, StackV4V6};
pub use tcpv4::{TcpCallback, TcpError, TcpFlow, Tcpv4};
pub use tcpv4v6::{TcpListenerV4V6, TcpV4V6};
pub use time::{Time, duration_from_secs};
pub use udpv4::{MAX_UDP_PAYLOAD, UdpCallback, UdpDatagram, UdpError, Udpv4};
pub use udpv4v6::{MAX_UDP_PAYLOAD_V6, UdpCallbackV4V6, UdpDatagramV4V6, UdpListenerV4V6, UdpV4V6};

/// Re-exported so that implementations use the same attribute version as the traits.
pub use async_trait::async_trait;
/// Re-exported: the buffer type of every read.
pub use bytes::Bytes;
