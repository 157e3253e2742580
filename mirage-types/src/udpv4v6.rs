//! UDP of a dual stack: datagrams to and from IPv4 and IPv6 peers alike (Mirage 4's `UDP`
//! with `ipaddr = Ipaddr.t`).

#[allow(unused_imports)]
use crate::alloc_prelude::*;

use crate::{Device, UdpDatagram, UdpError};
use async_trait::async_trait;
use bytes::Bytes;
use core::net::{IpAddr, SocketAddr};

/// The largest UDP payload over IPv6 without jumbograms: 65,535 bytes less the UDP header
/// (IPv6's payload length does not count its own header).
pub const MAX_UDP_PAYLOAD_V6: usize = 65_527;

/// One datagram received by a dual stack: Mirage 4's callback arguments `~src ~dst
/// ~src_port buffer` with addresses of either family, plus the port it arrived on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UdpDatagramV4V6 {
    /// Sender's address.
    pub src: IpAddr,
    /// Sender's port.
    pub src_port: u16,
    /// Address it was sent to (unspecified where the stack cannot tell).
    pub dst: IpAddr,
    /// Port it was sent to.
    pub dst_port: u16,
    /// The payload.
    pub data: Bytes,
}

impl UdpDatagramV4V6 {
    /// Where it came from: the address and port a reply goes to.
    pub fn sender(&self) -> SocketAddr {
        SocketAddr::new(self.src, self.src_port)
    }
}

impl From<UdpDatagram> for UdpDatagramV4V6 {
    fn from(datagram: UdpDatagram) -> Self {
        UdpDatagramV4V6 {
            src: datagram.src.into(),
            src_port: datagram.src_port,
            dst: datagram.dst.into(),
            dst_port: datagram.dst_port,
            data: datagram.data,
        }
    }
}

impl TryFrom<UdpDatagramV4V6> for UdpDatagram {
    type Error = UdpDatagramV4V6;

    /// The IPv4 datagram; one with an IPv6 address is given back.
    fn try_from(datagram: UdpDatagramV4V6) -> Result<Self, UdpDatagramV4V6> {
        match (datagram.src, datagram.dst) {
            (IpAddr::V4(src), IpAddr::V4(dst)) => Ok(UdpDatagram {
                src,
                src_port: datagram.src_port,
                dst,
                dst_port: datagram.dst_port,
                data: datagram.data,
            }),
            _ => Err(datagram),
        }
    }
}

/// Mirage 4's `UDP.callback` on the dual stack: run once per datagram, each call as its own
/// task.
pub type UdpCallbackV4V6 = crate::DatagramCallback<UdpDatagramV4V6>;

/// Sending UDP datagrams to an IPv4 or IPv6 peer (receiving is
/// [`crate::StackV4V6::bind_udp`]).
#[async_trait(?Send)]
pub trait UdpV4V6: Device {
    /// Sends one datagram to `dst`, from `source_port` (without one the stack picks one).
    /// Fails with [`UdpError::TooLong`] beyond one datagram, and with [`UdpError::Unknown`],
    /// saying so, when the stack has no address of `dst`'s family.
    async fn write(
        &self,
        source_port: Option<u16>,
        dst: SocketAddr,
        data: &[u8],
    ) -> Result<(), UdpError>;
}

/// A bound UDP port of a dual stack ([`crate::StackV4V6::bind_udp`]): datagrams of either
/// family wait in a bounded queue until [`UdpListenerV4V6::recv`] takes them. Otherwise as
/// [`crate::UdpListener`].
///
/// ```
/// use mirage_types::{UdpError, UdpListenerV4V6};
///
/// /// Echoes every datagram, to IPv4 and IPv6 senders alike.
/// async fn echo<L: UdpListenerV4V6>(port: &L) -> Result<(), UdpError> {
///     loop {
///         let datagram = port.recv().await?;
///         port.reply(&datagram, &datagram.data).await?;
///     }
/// }
/// ```
#[async_trait(?Send)]
pub trait UdpListenerV4V6 {
    /// The next datagram. Fails with [`UdpError::Disconnected`] once the stack is
    /// disconnected. Cancel-safe: a datagram leaves the queue only in a `recv` that returns
    /// it.
    async fn recv(&self) -> Result<UdpDatagramV4V6, UdpError>;

    /// Sends one datagram to `to` from this port.
    async fn send_to(&self, to: SocketAddr, data: &[u8]) -> Result<(), UdpError>;

    /// Answers `datagram`'s sender from this port.
    async fn reply(&self, datagram: &UdpDatagramV4V6, data: &[u8]) -> Result<(), UdpError> {
        self.send_to(datagram.sender(), data).await
    }

    /// The port it is bound to, with an address of the stack (unspecified when it is bound
    /// on every address).
    fn local_addr(&self) -> SocketAddr;

    /// Datagrams dropped so far because the queue was full.
    fn dropped(&self) -> u64;
}

#[async_trait(?Send)]
impl<L: UdpListenerV4V6 + ?Sized> UdpListenerV4V6 for Box<L> {
    async fn recv(&self) -> Result<UdpDatagramV4V6, UdpError> {
        (**self).recv().await
    }

    async fn send_to(&self, to: SocketAddr, data: &[u8]) -> Result<(), UdpError> {
        (**self).send_to(to, data).await
    }

    fn local_addr(&self) -> SocketAddr {
        (**self).local_addr()
    }

    fn dropped(&self) -> u64 {
        (**self).dropped()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::Ipv4Addr;

    #[test]
    fn ipv4_datagrams_convert_both_ways_and_ipv6_ones_do_not_narrow() {
        let v4 = UdpDatagram {
            src: Ipv4Addr::new(10, 0, 0, 1),
            src_port: 5,
            dst: Ipv4Addr::new(10, 0, 0, 2),
            dst_port: 53,
            data: Bytes::from_static(b"q"),
        };
        let wide = UdpDatagramV4V6::from(v4.clone());
        assert_eq!(wide.sender().to_string(), "10.0.0.1:5");
        assert_eq!(UdpDatagram::try_from(wide), Ok(v4));
        let v6 = UdpDatagramV4V6 {
            src: "fd00::1".parse().unwrap(),
            src_port: 5,
            dst: "fd00::2".parse().unwrap(),
            dst_port: 53,
            data: Bytes::new(),
        };
        assert_eq!(v6.sender().to_string(), "[fd00::1]:5");
        assert!(UdpDatagram::try_from(v6).is_err());
    }
}
