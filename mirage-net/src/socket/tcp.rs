//! The socket stack's TCP view: outgoing connections.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

use super::{Inner, SocketFlow, flow::tcp_error};
use mirage_types::{Device, TcpError, Tcpv4, async_trait};
use std::net::{IpAddr, SocketAddr, SocketAddrV4};
use std::rc::Rc;
use tokio::net::TcpSocket;

/// V1 `TCPV4` on the socket stack (a handle onto it).
#[derive(Clone)]
pub struct SocketTcp {
    inner: Rc<Inner>,
}

impl SocketTcp {
    pub(crate) fn new(inner: Rc<Inner>) -> Self {
        SocketTcp { inner }
    }
}

#[async_trait(?Send)]
impl Device for SocketTcp {
    /// A view owns nothing: disconnect the stack to stop it.
    async fn disconnect(&self) {}
}

#[async_trait(?Send)]
impl Tcpv4 for SocketTcp {
    type Flow = SocketFlow;

    /// Connects from the stack's first interface; fails with [`TcpError::Refused`] when the
    /// peer resets, [`TcpError::Timeout`] after the configured timeout.
    async fn create_connection(&self, dst: SocketAddrV4) -> Result<SocketFlow, TcpError> {
        connect(&self.inner, dst.into()).await
    }
}

/// Connects to `dst` from the stack's first address of its family.
pub(crate) async fn connect(inner: &Inner, dst: SocketAddr) -> Result<SocketFlow, TcpError> {
    if inner.disconnected.get() {
        return Err(TcpError::Disconnected);
    }
    let dst = crate::addr::canonical(dst);
    let (socket, source) = match dst {
        SocketAddr::V4(_) => (TcpSocket::new_v4(), IpAddr::V4(inner.source_address())),
        SocketAddr::V6(_) => {
            let source = inner.source_address_v6().ok_or_else(|| {
                TcpError::Unknown(format!("cannot reach {dst}: this stack has no IPv6"))
            })?;
            (TcpSocket::new_v6(), IpAddr::V6(source))
        }
    };
    let socket = socket.map_err(tcp_error)?;
    if !source.is_unspecified() {
        socket.bind(SocketAddr::new(source, 0)).map_err(tcp_error)?;
    }
    let connect = socket.connect(dst);
    match tokio::time::timeout(inner.config.connect_timeout, connect).await {
        Err(_) => Err(TcpError::Timeout),
        Ok(Err(error)) => Err(tcp_error(error)),
        Ok(Ok(stream)) => Ok(SocketFlow::new(
            stream,
            dst,
            inner.config.idle_timeout,
            None,
        )),
    }
}
