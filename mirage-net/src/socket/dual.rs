//! The socket stack as Mirage 4's dual stack: IPv4 and IPv6 sockets behind `StackV4V6`.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

use super::listener::{self, SocketTcpListener, SocketUdpListener};
use super::{Inner, SocketFlow, SocketStack};
use mirage_types::{
    Device, IpCidr, StackError, StackFlowV4V6, StackV4V6, TcpCallback, TcpError, TcpListenerV4V6,
    TcpV4V6, UdpCallbackV4V6, UdpDatagramV4V6, UdpError, UdpListenerV4V6, UdpV4V6, async_trait,
    serve_callbacks_v4v6,
};
use std::net::{IpAddr, SocketAddr};
use std::rc::Rc;

/// Mirage 4's `TCP` on the socket stack: connections to IPv4 and IPv6 peers (a handle).
#[derive(Clone)]
pub struct SocketTcpV4V6 {
    inner: Rc<Inner>,
}

/// Mirage 4's `UDP` on the socket stack: datagrams to IPv4 and IPv6 peers (a handle).
#[derive(Clone)]
pub struct SocketUdpV4V6 {
    inner: Rc<Inner>,
}

/// A TCP port the dual stack bound: IPv4 and IPv6 connections alike (see
/// [`super::StackConfig::ipv6_interfaces`] for the sockets underneath).
#[derive(Debug)]
pub struct SocketTcpListenerV4V6(SocketTcpListener);

/// A UDP port the dual stack bound: IPv4 and IPv6 datagrams alike.
#[derive(Debug)]
pub struct SocketUdpListenerV4V6(SocketUdpListener);

#[async_trait(?Send)]
impl Device for SocketTcpV4V6 {
    /// A view owns nothing: disconnect the stack to stop it.
    async fn disconnect(&self) {}
}

#[async_trait(?Send)]
impl Device for SocketUdpV4V6 {
    /// A view owns nothing: disconnect the stack to stop it.
    async fn disconnect(&self) {}
}

#[async_trait(?Send)]
impl TcpV4V6 for SocketTcpV4V6 {
    type Flow = SocketFlow;

    /// Connects from the stack's first address of `dst`'s family; IPv6 needs
    /// `ipv6_interfaces`.
    async fn create_connection(&self, dst: SocketAddr) -> Result<SocketFlow, TcpError> {
        super::tcp::connect(&self.inner, dst).await
    }
}

#[async_trait(?Send)]
impl UdpV4V6 for SocketUdpV4V6 {
    async fn write(
        &self,
        source_port: Option<u16>,
        dst: SocketAddr,
        data: &[u8],
    ) -> Result<(), UdpError> {
        super::udp::send(&self.inner, source_port, dst, data).await
    }
}

#[async_trait(?Send)]
impl TcpListenerV4V6 for SocketTcpListenerV4V6 {
    type Flow = SocketFlow;

    async fn accept(&self) -> Result<SocketFlow, TcpError> {
        mirage_types::TcpListener::accept(&self.0).await
    }

    fn local_addr(&self) -> SocketAddr {
        self.0.local()
    }
}

#[async_trait(?Send)]
impl UdpListenerV4V6 for SocketUdpListenerV4V6 {
    async fn recv(&self) -> Result<UdpDatagramV4V6, UdpError> {
        self.0.recv_either().await
    }

    async fn send_to(&self, to: SocketAddr, data: &[u8]) -> Result<(), UdpError> {
        self.0.send_either(to, data).await
    }

    fn local_addr(&self) -> SocketAddr {
        self.0.local()
    }

    fn dropped(&self) -> u64 {
        mirage_types::UdpListener::dropped(&self.0)
    }
}

/// The socket stack's dual face: the same stack, its ports bound for both families.
#[async_trait(?Send)]
impl StackV4V6 for SocketStack {
    type Udp = SocketUdpV4V6;
    type Tcp = SocketTcpV4V6;
    type TcpListener = SocketTcpListenerV4V6;
    type UdpListener = SocketUdpListenerV4V6;

    fn udp(&self) -> SocketUdpV4V6 {
        SocketUdpV4V6 {
            inner: self.inner.clone(),
        }
    }

    fn tcp(&self) -> SocketTcpV4V6 {
        SocketTcpV4V6 {
            inner: self.inner.clone(),
        }
    }

    /// The addresses it listens on, with their prefixes as the host's interfaces have them:
    /// every address of the host's interfaces that are up for "all" (of either family), a
    /// named address with its interface's prefix (`/32` or `/128` if no interface has it).
    fn configured_ips(&self) -> Vec<IpCidr> {
        let host = super::host_addresses::host_addresses();
        let v4 = self
            .inner
            .config
            .interfaces
            .iter()
            .map(|&ip| IpAddr::from(ip));
        let v6 = self.inner.ipv6_interfaces().into_iter().map(IpAddr::from);
        let mut ips = Vec::new();
        for ip in v4.chain(v6) {
            if ip.is_unspecified() {
                let family = host
                    .iter()
                    .filter(|c| c.address().is_ipv4() == ip.is_ipv4());
                ips.extend(family.copied());
                continue;
            }
            let full = if ip.is_ipv4() { 32 } else { 128 };
            let prefix = host
                .iter()
                .find(|c| c.address() == ip)
                .map_or(full, |c| c.prefix_len());
            ips.extend(IpCidr::new(ip, prefix).ok());
        }
        ips
    }

    /// Binds `port` for both families (see [`super::StackConfig::ipv6_interfaces`]).
    async fn bind_tcp(&self, port: u16) -> Result<SocketTcpListenerV4V6, StackError> {
        listener::bind_tcp(&self.inner, port, true).map(SocketTcpListenerV4V6)
    }

    /// Binds `port` for both families; the kernel's socket buffers are the queue.
    async fn bind_udp(&self, port: u16) -> Result<SocketUdpListenerV4V6, StackError> {
        listener::bind_udp(&self.inner, port, true).map(SocketUdpListenerV4V6)
    }

    fn listen_udp_with(&self, port: u16, callback: UdpCallbackV4V6) {
        self.inner.callbacks_v4v6.set_udp(port, callback);
    }

    fn listen_tcp_with(&self, port: u16, callback: TcpCallback<StackFlowV4V6<Self>>) {
        self.inner.callbacks_v4v6.set_tcp(port, callback);
    }

    /// Serves the dual face's callbacks until [`Device::disconnect`] (V1's callbacks are
    /// served by V1's `listen`).
    async fn listen_v4v6(&self) -> Result<(), StackError> {
        let registry = &self.inner.callbacks_v4v6;
        serve_callbacks_v4v6(self, registry, self.inner.disconnected()).await
    }
}
