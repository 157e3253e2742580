//! The direct stack as Mirage 4's dual stack: smoltcp's IPv4 and IPv6 behind `StackV4V6`.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

use super::DirectStack;
use super::flow::DirectFlow;
use super::listener::{DirectTcpListener, DirectUdpListener, local_addr_v4v6};
use super::state::Shared;
use alloc::rc::Rc;
use core::net::SocketAddr;
use mirage_types::{
    Device, IpCidr, Network, StackError, StackFlowV4V6, StackV4V6, TcpCallback, TcpError,
    TcpListenerV4V6, TcpV4V6, UdpCallbackV4V6, UdpDatagramV4V6, UdpError, UdpListenerV4V6, UdpV4V6,
    async_trait, serve_callbacks_v4v6,
};

/// Mirage 4's `TCP` on the direct stack: connections to IPv4 and IPv6 peers (a handle).
#[derive(Clone)]
pub struct DirectTcpV4V6 {
    shared: Rc<Shared>,
}

/// Mirage 4's `UDP` on the direct stack: datagrams to IPv4 and IPv6 peers (a handle).
#[derive(Clone)]
pub struct DirectUdpV4V6 {
    shared: Rc<Shared>,
}

/// A TCP port the dual stack bound: IPv4 and IPv6 connections alike.
#[derive(Debug)]
pub struct DirectTcpListenerV4V6(DirectTcpListener);

/// A UDP port the dual stack bound: IPv4 and IPv6 datagrams alike (256 wait at most).
#[derive(Debug)]
pub struct DirectUdpListenerV4V6(DirectUdpListener);

#[async_trait(?Send)]
impl Device for DirectTcpV4V6 {
    /// A view owns nothing: disconnect the stack to stop it.
    async fn disconnect(&self) {}
}

#[async_trait(?Send)]
impl Device for DirectUdpV4V6 {
    /// A view owns nothing: disconnect the stack to stop it.
    async fn disconnect(&self) {}
}

#[async_trait(?Send)]
impl TcpV4V6 for DirectTcpV4V6 {
    type Flow = DirectFlow;

    /// Connects to `dst`; IPv6 needs [`DirectStack::enable_ipv6`].
    async fn create_connection(&self, dst: SocketAddr) -> Result<DirectFlow, TcpError> {
        super::views::connect(&self.shared, dst).await
    }
}

#[async_trait(?Send)]
impl UdpV4V6 for DirectUdpV4V6 {
    /// Sends one datagram; over IPv6 it must fit one packet (smoltcp does not fragment
    /// IPv6), else [`UdpError::TooLong`].
    async fn write(
        &self,
        source_port: Option<u16>,
        dst: SocketAddr,
        data: &[u8],
    ) -> Result<(), UdpError> {
        super::views::send_udp(&self.shared, source_port, dst, data).await
    }
}

#[async_trait(?Send)]
impl TcpListenerV4V6 for DirectTcpListenerV4V6 {
    type Flow = DirectFlow;

    async fn accept(&self) -> Result<DirectFlow, TcpError> {
        self.0.accept_either().await
    }

    fn local_addr(&self) -> SocketAddr {
        local_addr_v4v6(self.0.shared(), self.0.port())
    }
}

#[async_trait(?Send)]
impl UdpListenerV4V6 for DirectUdpListenerV4V6 {
    async fn recv(&self) -> Result<UdpDatagramV4V6, UdpError> {
        self.0.recv_either().await
    }

    async fn send_to(&self, to: SocketAddr, data: &[u8]) -> Result<(), UdpError> {
        self.0.send_either(to, data).await
    }

    fn local_addr(&self) -> SocketAddr {
        local_addr_v4v6(self.0.shared(), self.0.port())
    }

    fn dropped(&self) -> u64 {
        mirage_types::UdpListener::dropped(&self.0)
    }
}

/// The direct stack's dual face: the same stack, its ports bound for both families (IPv6
/// once [`DirectStack::enable_ipv6`] turned it on; until then IPv4 only).
#[async_trait(?Send)]
impl<N: Network + 'static> StackV4V6 for DirectStack<N> {
    type Udp = DirectUdpV4V6;
    type Tcp = DirectTcpV4V6;
    type TcpListener = DirectTcpListenerV4V6;
    type UdpListener = DirectUdpListenerV4V6;

    fn udp(&self) -> DirectUdpV4V6 {
        DirectUdpV4V6 {
            shared: self.shared.clone(),
        }
    }

    fn tcp(&self) -> DirectTcpV4V6 {
        DirectTcpV4V6 {
            shared: self.shared.clone(),
        }
    }

    fn configured_ips(&self) -> Vec<IpCidr> {
        self.ip_addresses()
    }

    /// Binds `port` for both families: a pool of listening sockets and a backlog of up to
    /// 1024 connections, as [`mirage_types::StackV4::bind_tcpv4`].
    async fn bind_tcp(&self, port: u16) -> Result<DirectTcpListenerV4V6, StackError> {
        if self.shared.disconnected.get() {
            return Err(StackError::Disconnected);
        }
        let (port, backlog) = self.shared.state.borrow_mut().bind_tcp(port, true)?;
        self.shared.wake.notify();
        let listener = DirectTcpListener::new(self.shared.clone(), port, backlog);
        Ok(DirectTcpListenerV4V6(listener))
    }

    /// Binds `port` for both families; 256 datagrams (1 MiB) wait for `recv`.
    async fn bind_udp(&self, port: u16) -> Result<DirectUdpListenerV4V6, StackError> {
        if self.shared.disconnected.get() {
            return Err(StackError::Disconnected);
        }
        let (port, queue) = self.shared.state.borrow_mut().bind_udp(port, true)?;
        let listener = DirectUdpListener::new(self.shared.clone(), port, queue);
        Ok(DirectUdpListenerV4V6(listener))
    }

    fn listen_udp_with(&self, port: u16, callback: UdpCallbackV4V6) {
        self.shared.callbacks_v4v6.set_udp(port, callback);
    }

    fn listen_tcp_with(&self, port: u16, callback: TcpCallback<StackFlowV4V6<Self>>) {
        self.shared.callbacks_v4v6.set_tcp(port, callback);
    }

    /// Serves the dual face's callbacks until the stack stops, with the driver's error if
    /// it failed (V1's callbacks are served by V1's `listen`).
    async fn listen_v4v6(&self) -> Result<(), StackError> {
        let registry = &self.shared.callbacks_v4v6;
        serve_callbacks_v4v6(self, registry, self.shared.stopped()).await?;
        self.driver_failure()
    }
}
