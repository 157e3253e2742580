//! The socket stack's TCP view: outgoing connections.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

use super::{Inner, SocketFlow, flow::tcp_error};
use mirage_types::{Device, TcpError, Tcpv4, async_trait};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
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
        if self.inner.disconnected.get() {
            return Err(TcpError::Disconnected);
        }
        let socket = TcpSocket::new_v4().map_err(tcp_error)?;
        let source = self.inner.source_address();
        if source != Ipv4Addr::UNSPECIFIED {
            socket
                .bind(SocketAddr::from((source, 0)))
                .map_err(tcp_error)?;
        }
        let connect = socket.connect(SocketAddr::V4(dst));
        match tokio::time::timeout(self.inner.config.connect_timeout, connect).await {
            Err(_) => Err(TcpError::Timeout),
            Ok(Err(error)) => Err(tcp_error(error)),
            Ok(Ok(stream)) => Ok(SocketFlow::new(
                stream,
                dst,
                self.inner.config.idle_timeout,
                None,
            )),
        }
    }
}
