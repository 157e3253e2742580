//! The socket stack's UDP view: sending datagrams.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

use super::listener::bound_socket;
use super::{BindAddress, Inner, UdpSender};
use mirage_types::{Device, IoError, UdpError, Udpv4, async_trait};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::rc::Rc;
use tokio::net::UdpSocket;

/// V1 `UDPV4` on the socket stack (a handle onto it).
#[derive(Clone)]
pub struct SocketUdp {
    inner: Rc<Inner>,
}

impl SocketUdp {
    pub(crate) fn new(inner: Rc<Inner>) -> Self {
        SocketUdp { inner }
    }
}

/// The socket to send to a peer of the family `v6` says from: the one listening on `port`
/// if any, else one bound to it (port 0: an ephemeral port, shared by every write of that
/// family without a source port).
fn sender(inner: &Inner, port: u16, v6: bool) -> Result<UdpSender, UdpError> {
    if let Some(sender) = inner.udp_sockets.borrow().get(&(port, v6)) {
        return Ok(sender.clone());
    }
    let ip = if v6 {
        IpAddr::V6(inner.source_address_v6().ok_or_else(|| {
            UdpError::Unknown("cannot send to an IPv6 peer: this stack has no IPv6".into())
        })?)
    } else {
        IpAddr::V4(inner.source_address())
    };
    let address = BindAddress { ip, dual: false };
    let socket = bound_socket(socket2::Type::DGRAM, address, port)
        .and_then(|socket| UdpSocket::from_std(socket.into()))
        .map_err(|e| UdpError::Io(IoError::new(format!("binding UDP port {port}"), e)))?;
    let sender = UdpSender {
        socket: Rc::new(socket),
        v6,
    };
    inner
        .udp_sockets
        .borrow_mut()
        .insert((port, v6), sender.clone());
    Ok(sender)
}

/// Sends one datagram to `dst`. With a source port, it leaves from that port (from the
/// listening socket if the stack serves it, so replies come from the port asked).
pub(crate) async fn send(
    inner: &Inner,
    source_port: Option<u16>,
    dst: SocketAddr,
    data: &[u8],
) -> Result<(), UdpError> {
    if inner.disconnected.get() {
        return Err(UdpError::Disconnected);
    }
    let dst = crate::addr::canonical(dst);
    let max = if dst.is_ipv6() {
        mirage_types::MAX_UDP_PAYLOAD_V6
    } else {
        mirage_types::MAX_UDP_PAYLOAD
    };
    if data.len() > max {
        return Err(UdpError::TooLong(data.len()));
    }
    let sender = sender(inner, source_port.unwrap_or(0), dst.is_ipv6())?;
    sender
        .send_to(data, dst)
        .await
        .map_err(|e| UdpError::Io(IoError::new(format!("sending to {dst}"), e)))
}

#[async_trait(?Send)]
impl Device for SocketUdp {
    /// A view owns nothing: disconnect the stack to stop it.
    async fn disconnect(&self) {}
}

#[async_trait(?Send)]
impl Udpv4 for SocketUdp {
    /// Sends one datagram. With a source port, it leaves from that port (from the listening
    /// socket if the stack serves it, so replies come from the port asked).
    async fn write(
        &self,
        source_port: Option<u16>,
        dst: Ipv4Addr,
        dst_port: u16,
        data: &[u8],
    ) -> Result<(), UdpError> {
        send(&self.inner, source_port, (dst, dst_port).into(), data).await
    }
}
