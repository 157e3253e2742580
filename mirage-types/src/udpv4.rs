//! V1 `UDPV4`.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

#[cfg(feature = "std")]
use crate::IoError;
use crate::{Device, ErrorKind};
use alloc::rc::Rc;
use async_trait::async_trait;
use bytes::Bytes;
use core::net::Ipv4Addr;
use futures::future::LocalBoxFuture;
use thiserror::Error;

/// The largest UDP payload over IPv4: 65,535 bytes less the IP and UDP headers.
pub const MAX_UDP_PAYLOAD: usize = 65_507;

/// Errors of UDP (V1: `` [ `Unknown of string ] ``).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum UdpError {
    /// V1 `Unknown`: any failure, described.
    #[error("UDP error: {0}")]
    Unknown(String),
    /// The datagram is larger than one UDP datagram can be.
    #[error("UDP payload of {0} bytes is too large")]
    TooLong(usize),
    /// The stack was disconnected.
    #[error("UDP is disconnected")]
    Disconnected,
    /// The operating system reported an error (the error is kept as `source()`).
    #[cfg(feature = "std")]
    #[error("UDP I/O failed: {0}")]
    Io(#[source] IoError),
}

impl UdpError {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            UdpError::Unknown(_) => ErrorKind::Other,
            UdpError::TooLong(_) => ErrorKind::InvalidInput,
            UdpError::Disconnected => ErrorKind::Disconnected,
            #[cfg(feature = "std")]
            UdpError::Io(error) => error.kind(),
        }
    }
}

/// One received datagram: V1's callback arguments `~src ~dst ~src_port buffer`, plus the
/// port it arrived on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UdpDatagram {
    /// Sender's address.
    pub src: Ipv4Addr,
    /// Sender's port.
    pub src_port: u16,
    /// Address it was sent to (`0.0.0.0` on the socket stack, as in V1).
    pub dst: Ipv4Addr,
    /// Port it was sent to.
    pub dst_port: u16,
    /// The payload.
    pub data: Bytes,
}

impl UdpDatagram {
    /// Where it came from: the address and port a reply goes to.
    pub fn sender(&self) -> core::net::SocketAddrV4 {
        core::net::SocketAddrV4::new(self.src, self.src_port)
    }
}

/// V1 `UDPV4.callback`: run once per datagram, each call as its own task.
pub type UdpCallback = Rc<dyn Fn(UdpDatagram) -> LocalBoxFuture<'static, ()>>;

/// V1 `UDPV4`: sending datagrams (receiving is [`crate::StackV4::listen_udpv4`]).
#[async_trait(?Send)]
pub trait Udpv4: Device {
    /// V1 `write ?source_port ~dest_ip ~dest_port`: sends one datagram. Without a source
    /// port the stack picks one.
    async fn write(
        &self,
        source_port: Option<u16>,
        dst: Ipv4Addr,
        dst_port: u16,
        data: &[u8],
    ) -> Result<(), UdpError>;
}
