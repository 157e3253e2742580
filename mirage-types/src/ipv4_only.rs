//! [`Ipv4Only`]: any V1 `StackV4` as a dual stack that has no IPv6.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

use crate::{
    Device, IpCidr, Ipv4, StackError, StackFlow, StackV4, StackV4V6, TcpCallback, TcpError,
    TcpListener, TcpListenerV4V6, TcpV4V6, Tcpv4, UdpCallbackV4V6, UdpDatagramV4V6, UdpError,
    UdpListener, UdpListenerV4V6, UdpV4V6, Udpv4, netmask_prefix_len,
};
use alloc::rc::Rc;
use async_trait::async_trait;
use core::net::{IpAddr, SocketAddr, SocketAddrV4};

/// A V1 [`StackV4`] as a [`StackV4V6`] without IPv6: an application written for the dual
/// stack runs on any IPv4 stack. It serves IPv4 as the stack underneath does; connections
/// and datagrams to IPv6 peers fail with an error naming the peer.
///
/// ```
/// use mirage_types::{Ipv4Only, StackV4, StackV4V6};
///
/// /// An application written for the dual stack...
/// async fn serve<S: StackV4V6>(stack: &S) { let _ = stack.bind_tcp(80).await; }
///
/// /// ...handed an IPv4-only stack.
/// async fn on_ipv4<S: StackV4>(stack: S) { serve(&Ipv4Only(stack)).await }
/// ```
#[derive(Debug, Clone)]
pub struct Ipv4Only<S>(pub S);

/// Narrows `dst` to IPv4, or says why not.
fn ipv4_peer(dst: SocketAddr) -> Result<SocketAddrV4, String> {
    match dst {
        SocketAddr::V4(dst) => Ok(dst),
        SocketAddr::V6(v6) => match v6.ip().to_ipv4_mapped() {
            Some(ip) => Ok(SocketAddrV4::new(ip, v6.port())),
            None => Err(format!("cannot reach {dst}: this stack has no IPv6")),
        },
    }
}

#[async_trait(?Send)]
impl<T: Device> Device for Ipv4Only<T> {
    async fn disconnect(&self) {
        self.0.disconnect().await
    }
}

#[async_trait(?Send)]
impl<T: Tcpv4> TcpV4V6 for Ipv4Only<T> {
    type Flow = T::Flow;

    async fn create_connection(&self, dst: SocketAddr) -> Result<T::Flow, TcpError> {
        let dst = ipv4_peer(dst).map_err(TcpError::Unknown)?;
        self.0.create_connection(dst).await
    }
}

#[async_trait(?Send)]
impl<T: Udpv4> UdpV4V6 for Ipv4Only<T> {
    async fn write(
        &self,
        source_port: Option<u16>,
        dst: SocketAddr,
        data: &[u8],
    ) -> Result<(), UdpError> {
        let dst = ipv4_peer(dst).map_err(UdpError::Unknown)?;
        self.0.write(source_port, *dst.ip(), dst.port(), data).await
    }
}

#[async_trait(?Send)]
impl<L: TcpListener> TcpListenerV4V6 for Ipv4Only<L> {
    type Flow = L::Flow;

    async fn accept(&self) -> Result<L::Flow, TcpError> {
        self.0.accept().await
    }

    fn local_addr(&self) -> SocketAddr {
        self.0.local_addr().into()
    }
}

#[async_trait(?Send)]
impl<L: UdpListener> UdpListenerV4V6 for Ipv4Only<L> {
    async fn recv(&self) -> Result<UdpDatagramV4V6, UdpError> {
        self.0.recv().await.map(Into::into)
    }

    async fn send_to(&self, to: SocketAddr, data: &[u8]) -> Result<(), UdpError> {
        let to = ipv4_peer(to).map_err(UdpError::Unknown)?;
        self.0.send_to(to, data).await
    }

    fn local_addr(&self) -> SocketAddr {
        self.0.local_addr().into()
    }

    fn dropped(&self) -> u64 {
        self.0.dropped()
    }
}

#[async_trait(?Send)]
impl<S: StackV4> StackV4V6 for Ipv4Only<S> {
    type Udp = Ipv4Only<S::Udp>;
    type Tcp = Ipv4Only<S::Tcp>;
    type TcpListener = Ipv4Only<S::TcpListener>;
    type UdpListener = Ipv4Only<S::UdpListener>;

    fn udp(&self) -> Self::Udp {
        Ipv4Only(self.0.udpv4())
    }

    fn tcp(&self) -> Self::Tcp {
        Ipv4Only(self.0.tcpv4())
    }

    /// The IPv4 addresses with their netmasks' prefixes (`0.0.0.0`, bound to every
    /// address, is left out).
    fn configured_ips(&self) -> Vec<IpCidr> {
        let ip = self.0.ipv4();
        let netmasks = ip.get_ip_netmasks();
        ip.get_ip()
            .into_iter()
            .enumerate()
            .filter(|(_, address)| !address.is_unspecified())
            .filter_map(|(n, address)| {
                let prefix = netmasks.get(n).and_then(|m| netmask_prefix_len(*m));
                IpCidr::new(IpAddr::V4(address), prefix.unwrap_or(32)).ok()
            })
            .collect()
    }

    async fn bind_tcp(&self, port: u16) -> Result<Self::TcpListener, StackError> {
        self.0.bind_tcpv4(port).await.map(Ipv4Only)
    }

    async fn bind_udp(&self, port: u16) -> Result<Self::UdpListener, StackError> {
        self.0.bind_udpv4(port).await.map(Ipv4Only)
    }

    /// V1's `listen_udpv4`, each IPv4 datagram handed on as the dual stack's.
    fn listen_udp_with(&self, port: u16, callback: UdpCallbackV4V6) {
        self.0
            .listen_udpv4_with(port, Rc::new(move |datagram| callback(datagram.into())));
    }

    /// V1's `listen_tcpv4`.
    fn listen_tcp_with(&self, port: u16, callback: TcpCallback<StackFlow<S>>) {
        self.0.listen_tcpv4_with(port, callback);
    }

    /// V1's `listen`.
    async fn listen_v4v6(&self) -> Result<(), StackError> {
        self.0.listen().await
    }
}
