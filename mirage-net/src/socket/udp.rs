//! The socket stack's UDP view: sending datagrams.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

use super::Inner;
use mirage_types::{Device, IoError, UdpError, Udpv4, async_trait};
use std::net::Ipv4Addr;
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

    /// The socket to send from: the one listening on `port` if any, else one bound to it
    /// (port 0: an ephemeral port, shared by every write without a source port).
    fn socket(&self, port: u16) -> Result<Rc<UdpSocket>, UdpError> {
        if let Some(socket) = self.inner.udp_sockets.borrow().get(&port) {
            return Ok(socket.clone());
        }
        let address = self.inner.source_address();
        let socket = std::net::UdpSocket::bind((address, port))
            .and_then(|socket| {
                socket.set_nonblocking(true)?;
                UdpSocket::from_std(socket)
            })
            .map(Rc::new)
            .map_err(|e| UdpError::Io(IoError::new(format!("binding UDP port {port}"), e)))?;
        self.inner
            .udp_sockets
            .borrow_mut()
            .insert(port, socket.clone());
        Ok(socket)
    }
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
        if self.inner.disconnected.get() {
            return Err(UdpError::Disconnected);
        }
        if data.len() > mirage_types::MAX_UDP_PAYLOAD {
            return Err(UdpError::TooLong(data.len()));
        }
        let socket = self.socket(source_port.unwrap_or(0))?;
        socket
            .send_to(data, (dst, dst_port))
            .await
            .map(|_| ())
            .map_err(|e| UdpError::Io(IoError::new(format!("sending to {dst}:{dst_port}"), e)))
    }
}
