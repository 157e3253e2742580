//! `Either` over the network traits, up to whole stacks.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

use super::{Either, dispatch};
use crate::{
    Arp, ArpError, EthernetHandlers, Ethif, FrameHandler, IcmpError, Icmpv4, IpError, Ipv4,
    MacAddr, NetError, Network, StackError, StackFlow, StackV4, Stats, TcpCallback, TcpError,
    TcpListener, Tcpv4, UdpCallback, UdpDatagram, UdpError, UdpListener, Udpv4,
};
use crate::{
    IpCidr, StackFlowV4V6, StackV4V6, TcpListenerV4V6, TcpV4V6, UdpCallbackV4V6, UdpDatagramV4V6,
    UdpListenerV4V6, UdpV4V6,
};
use alloc::rc::Rc;
use async_trait::async_trait;
use bytes::Bytes;
use core::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

#[async_trait(?Send)]
impl<A: Network, B: Network> Network for Either<A, B> {
    async fn write(&self, frame: &[u8]) -> Result<(), NetError> {
        dispatch!(self, n => n.write(frame).await)
    }

    async fn writev(&self, parts: &[&[u8]]) -> Result<(), NetError> {
        dispatch!(self, n => n.writev(parts).await)
    }

    async fn write_owned(&self, frame: Bytes) -> Result<(), NetError> {
        dispatch!(self, n => n.write_owned(frame).await)
    }

    async fn write_many(&self, frames: Vec<Bytes>) -> Result<(), NetError> {
        dispatch!(self, n => n.write_many(frames).await)
    }

    async fn listen(&self, handler: FrameHandler) -> Result<(), NetError> {
        dispatch!(self, n => n.listen(handler).await)
    }

    fn mac(&self) -> MacAddr {
        dispatch!(self, n => n.mac())
    }

    fn mtu(&self) -> usize {
        dispatch!(self, n => n.mtu())
    }

    fn get_stats_counters(&self) -> Stats {
        dispatch!(self, n => n.get_stats_counters())
    }

    fn reset_stats_counters(&self) {
        dispatch!(self, n => n.reset_stats_counters())
    }
}

#[async_trait(?Send)]
impl<A: Ethif, B: Ethif> Ethif for Either<A, B> {
    async fn write(&self, frame: &[u8]) -> Result<(), NetError> {
        dispatch!(self, e => e.write(frame).await)
    }

    async fn writev(&self, parts: &[&[u8]]) -> Result<(), NetError> {
        dispatch!(self, e => e.writev(parts).await)
    }

    fn mac(&self) -> MacAddr {
        dispatch!(self, e => e.mac())
    }

    async fn input(&self, handlers: &EthernetHandlers, frame: Bytes) {
        dispatch!(self, e => e.input(handlers, frame).await)
    }
}

#[async_trait(?Send)]
impl<A: Arp, B: Arp> Arp for Either<A, B> {
    fn get_ips(&self) -> Vec<Ipv4Addr> {
        dispatch!(self, a => a.get_ips())
    }

    async fn set_ips(&self, ips: Vec<Ipv4Addr>) -> Result<(), ArpError> {
        dispatch!(self, a => a.set_ips(ips).await)
    }

    async fn add_ip(&self, ip: Ipv4Addr) -> Result<(), ArpError> {
        dispatch!(self, a => a.add_ip(ip).await)
    }

    async fn remove_ip(&self, ip: Ipv4Addr) -> Result<(), ArpError> {
        dispatch!(self, a => a.remove_ip(ip).await)
    }

    async fn query(&self, ip: Ipv4Addr) -> Result<MacAddr, ArpError> {
        dispatch!(self, a => a.query(ip).await)
    }
}

#[async_trait(?Send)]
impl<A: Ipv4, B: Ipv4> Ipv4 for Either<A, B> {
    fn get_ip(&self) -> Vec<Ipv4Addr> {
        dispatch!(self, i => i.get_ip())
    }

    async fn set_ip(&self, ip: Ipv4Addr) -> Result<(), IpError> {
        dispatch!(self, i => i.set_ip(ip).await)
    }

    fn get_ip_netmasks(&self) -> Vec<Ipv4Addr> {
        dispatch!(self, i => i.get_ip_netmasks())
    }

    async fn set_ip_netmask(&self, netmask: Ipv4Addr) -> Result<(), IpError> {
        dispatch!(self, i => i.set_ip_netmask(netmask).await)
    }

    fn get_ip_gateways(&self) -> Vec<Ipv4Addr> {
        dispatch!(self, i => i.get_ip_gateways())
    }

    async fn set_ip_gateways(&self, gateways: Vec<Ipv4Addr>) -> Result<(), IpError> {
        dispatch!(self, i => i.set_ip_gateways(gateways).await)
    }

    fn get_source(&self, dst: Ipv4Addr) -> Ipv4Addr {
        dispatch!(self, i => i.get_source(dst))
    }

    async fn write(&self, dst: Ipv4Addr, protocol: u8, payload: &[&[u8]]) -> Result<(), IpError> {
        dispatch!(self, i => i.write(dst, protocol, payload).await)
    }
}

#[async_trait(?Send)]
impl<A: Icmpv4, B: Icmpv4> Icmpv4 for Either<A, B> {
    async fn write(&self, dst: Ipv4Addr, message: &[u8]) -> Result<(), IcmpError> {
        dispatch!(self, i => i.write(dst, message).await)
    }
}

#[async_trait(?Send)]
impl<A: Udpv4, B: Udpv4> Udpv4 for Either<A, B> {
    async fn write(
        &self,
        source_port: Option<u16>,
        dst: Ipv4Addr,
        dst_port: u16,
        data: &[u8],
    ) -> Result<(), UdpError> {
        dispatch!(self, u => u.write(source_port, dst, dst_port, data).await)
    }
}

#[async_trait(?Send)]
impl<A: Tcpv4, B: Tcpv4> Tcpv4 for Either<A, B> {
    type Flow = Either<A::Flow, B::Flow>;

    async fn create_connection(&self, dst: SocketAddrV4) -> Result<Self::Flow, TcpError> {
        match self {
            Either::Left(t) => t.create_connection(dst).await.map(Either::Left),
            Either::Right(t) => t.create_connection(dst).await.map(Either::Right),
        }
    }
}

#[async_trait(?Send)]
impl<A: TcpListener, B: TcpListener> TcpListener for Either<A, B> {
    type Flow = Either<A::Flow, B::Flow>;

    async fn accept(&self) -> Result<Self::Flow, TcpError> {
        match self {
            Either::Left(l) => l.accept().await.map(Either::Left),
            Either::Right(l) => l.accept().await.map(Either::Right),
        }
    }

    fn local_addr(&self) -> SocketAddrV4 {
        dispatch!(self, l => l.local_addr())
    }
}

#[async_trait(?Send)]
impl<A: UdpListener, B: UdpListener> UdpListener for Either<A, B> {
    async fn recv(&self) -> Result<UdpDatagram, UdpError> {
        dispatch!(self, l => l.recv().await)
    }

    async fn send_to(&self, to: SocketAddrV4, data: &[u8]) -> Result<(), UdpError> {
        dispatch!(self, l => l.send_to(to, data).await)
    }

    fn local_addr(&self) -> SocketAddrV4 {
        dispatch!(self, l => l.local_addr())
    }

    fn dropped(&self) -> u64 {
        dispatch!(self, l => l.dropped())
    }
}

#[async_trait(?Send)]
impl<A: StackV4, B: StackV4> StackV4 for Either<A, B> {
    type Udp = Either<A::Udp, B::Udp>;
    type Tcp = Either<A::Tcp, B::Tcp>;
    type Ip = Either<A::Ip, B::Ip>;
    type TcpListener = Either<A::TcpListener, B::TcpListener>;
    type UdpListener = Either<A::UdpListener, B::UdpListener>;

    fn udpv4(&self) -> Self::Udp {
        match self {
            Either::Left(s) => Either::Left(s.udpv4()),
            Either::Right(s) => Either::Right(s.udpv4()),
        }
    }

    fn tcpv4(&self) -> Self::Tcp {
        match self {
            Either::Left(s) => Either::Left(s.tcpv4()),
            Either::Right(s) => Either::Right(s.tcpv4()),
        }
    }

    fn ipv4(&self) -> Self::Ip {
        match self {
            Either::Left(s) => Either::Left(s.ipv4()),
            Either::Right(s) => Either::Right(s.ipv4()),
        }
    }

    async fn bind_tcpv4(&self, port: u16) -> Result<Self::TcpListener, StackError> {
        match self {
            Either::Left(s) => s.bind_tcpv4(port).await.map(Either::Left),
            Either::Right(s) => s.bind_tcpv4(port).await.map(Either::Right),
        }
    }

    async fn bind_udpv4(&self, port: u16) -> Result<Self::UdpListener, StackError> {
        match self {
            Either::Left(s) => s.bind_udpv4(port).await.map(Either::Left),
            Either::Right(s) => s.bind_udpv4(port).await.map(Either::Right),
        }
    }

    fn listen_udpv4_with(&self, port: u16, callback: UdpCallback) {
        dispatch!(self, s => s.listen_udpv4_with(port, callback))
    }

    fn listen_tcpv4_with(&self, port: u16, callback: TcpCallback<StackFlow<Self>>) {
        match self {
            Either::Left(s) => {
                s.listen_tcpv4_with(port, Rc::new(move |flow| callback(Either::Left(flow))))
            }
            Either::Right(s) => {
                s.listen_tcpv4_with(port, Rc::new(move |flow| callback(Either::Right(flow))))
            }
        }
    }

    async fn listen(&self) -> Result<(), StackError> {
        dispatch!(self, s => s.listen().await)
    }
}

#[async_trait(?Send)]
impl<A: TcpV4V6, B: TcpV4V6> TcpV4V6 for Either<A, B> {
    type Flow = Either<A::Flow, B::Flow>;

    async fn create_connection(&self, dst: SocketAddr) -> Result<Self::Flow, TcpError> {
        match self {
            Either::Left(t) => t.create_connection(dst).await.map(Either::Left),
            Either::Right(t) => t.create_connection(dst).await.map(Either::Right),
        }
    }
}

#[async_trait(?Send)]
impl<A: UdpV4V6, B: UdpV4V6> UdpV4V6 for Either<A, B> {
    async fn write(
        &self,
        source_port: Option<u16>,
        dst: SocketAddr,
        data: &[u8],
    ) -> Result<(), UdpError> {
        dispatch!(self, u => u.write(source_port, dst, data).await)
    }
}

#[async_trait(?Send)]
impl<A: TcpListenerV4V6, B: TcpListenerV4V6> TcpListenerV4V6 for Either<A, B> {
    type Flow = Either<A::Flow, B::Flow>;

    async fn accept(&self) -> Result<Self::Flow, TcpError> {
        match self {
            Either::Left(l) => l.accept().await.map(Either::Left),
            Either::Right(l) => l.accept().await.map(Either::Right),
        }
    }

    fn local_addr(&self) -> SocketAddr {
        dispatch!(self, l => l.local_addr())
    }
}

#[async_trait(?Send)]
impl<A: UdpListenerV4V6, B: UdpListenerV4V6> UdpListenerV4V6 for Either<A, B> {
    async fn recv(&self) -> Result<UdpDatagramV4V6, UdpError> {
        dispatch!(self, l => l.recv().await)
    }

    async fn send_to(&self, to: SocketAddr, data: &[u8]) -> Result<(), UdpError> {
        dispatch!(self, l => l.send_to(to, data).await)
    }

    fn local_addr(&self) -> SocketAddr {
        dispatch!(self, l => l.local_addr())
    }

    fn dropped(&self) -> u64 {
        dispatch!(self, l => l.dropped())
    }
}

#[async_trait(?Send)]
impl<A: StackV4V6, B: StackV4V6> StackV4V6 for Either<A, B> {
    type Udp = Either<A::Udp, B::Udp>;
    type Tcp = Either<A::Tcp, B::Tcp>;
    type TcpListener = Either<A::TcpListener, B::TcpListener>;
    type UdpListener = Either<A::UdpListener, B::UdpListener>;

    fn udp(&self) -> Self::Udp {
        match self {
            Either::Left(s) => Either::Left(s.udp()),
            Either::Right(s) => Either::Right(s.udp()),
        }
    }

    fn tcp(&self) -> Self::Tcp {
        match self {
            Either::Left(s) => Either::Left(s.tcp()),
            Either::Right(s) => Either::Right(s.tcp()),
        }
    }

    fn configured_ips(&self) -> Vec<IpCidr> {
        dispatch!(self, s => s.configured_ips())
    }

    async fn bind_tcp(&self, port: u16) -> Result<Self::TcpListener, StackError> {
        match self {
            Either::Left(s) => s.bind_tcp(port).await.map(Either::Left),
            Either::Right(s) => s.bind_tcp(port).await.map(Either::Right),
        }
    }

    async fn bind_udp(&self, port: u16) -> Result<Self::UdpListener, StackError> {
        match self {
            Either::Left(s) => s.bind_udp(port).await.map(Either::Left),
            Either::Right(s) => s.bind_udp(port).await.map(Either::Right),
        }
    }

    fn listen_udp_with(&self, port: u16, callback: UdpCallbackV4V6) {
        dispatch!(self, s => s.listen_udp_with(port, callback))
    }

    fn listen_tcp_with(&self, port: u16, callback: TcpCallback<StackFlowV4V6<Self>>) {
        match self {
            Either::Left(s) => {
                s.listen_tcp_with(port, Rc::new(move |flow| callback(Either::Left(flow))))
            }
            Either::Right(s) => {
                s.listen_tcp_with(port, Rc::new(move |flow| callback(Either::Right(flow))))
            }
        }
    }

    async fn listen_v4v6(&self) -> Result<(), StackError> {
        dispatch!(self, s => s.listen_v4v6().await)
    }
}
