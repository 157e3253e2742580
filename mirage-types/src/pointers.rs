//! Every trait is implemented for `&T`, `Box<T>`, `Rc<T>` and `Arc<T>` (with `T: ?Sized`), so
//! one device can be handed out several times (`Main<C, S, Rc<K>>`), and a trait object works
//! where a generic is expected (`Box<dyn KvRo>`).

#[allow(unused_imports)]
use crate::alloc_prelude::*;

use crate::{
    Arp, ArpError, Block, BlockError, BlockInfo, Channel, ChannelResult, Clock, Console,
    ConsoleError, Device, Entry, EthernetHandlers, Ethif, Flow, FrameHandler, Fs, FsError,
    IcmpError, Icmpv4, IpError, Ipv4, KvError, KvRo, KvRw, MacAddr, MonotonicClock, NetError,
    Network, Random, Read, StackError, StackFlow, StackV4, Stat, Stats, TcpCallback, TcpError,
    TcpFlow, Tcpv4, Time, Tm, UdpCallback, UdpError, Udpv4,
};
use crate::{IpCidr, StackFlowV4V6, StackV4V6, TcpV4V6, UdpCallbackV4V6, UdpV4V6};
use alloc::rc::Rc;
use alloc::sync::Arc;
use async_trait::async_trait;
use bytes::Bytes;
use core::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use core::time::Duration;

/// Implements a trait for the four pointer types by calling through `**self`.
macro_rules! forward {
    (async $trait:ident { $($body:tt)* }) => {
        #[async_trait(?Send)]
        impl<T: $trait + ?Sized> $trait for &T { $($body)* }
        #[async_trait(?Send)]
        impl<T: $trait + ?Sized> $trait for Box<T> { $($body)* }
        #[async_trait(?Send)]
        impl<T: $trait + ?Sized> $trait for Rc<T> { $($body)* }
        #[async_trait(?Send)]
        impl<T: $trait + ?Sized> $trait for Arc<T> { $($body)* }
    };
    (sync $trait:ident { $($body:tt)* }) => {
        impl<T: $trait + ?Sized> $trait for &T { $($body)* }
        impl<T: $trait + ?Sized> $trait for Box<T> { $($body)* }
        impl<T: $trait + ?Sized> $trait for Rc<T> { $($body)* }
        impl<T: $trait + ?Sized> $trait for Arc<T> { $($body)* }
    };
}

forward!(async Device {
    async fn disconnect(&self) {
        (**self).disconnect().await
    }
});

forward!(async Time {
    async fn sleep(&self, duration: Duration) {
        (**self).sleep(duration).await
    }
});

forward!(sync Clock {
    fn time(&self) -> f64 {
        (**self).time()
    }

    fn gmtime(&self, seconds: f64) -> Tm {
        (**self).gmtime(seconds)
    }
});

forward!(sync Random {
    fn self_init(&self) {
        (**self).self_init()
    }

    fn fill_bytes(&self, buf: &mut [u8]) {
        (**self).fill_bytes(buf)
    }
});

forward!(async Flow {
    type Error = T::Error;

    async fn read(&self) -> Result<Read, Self::Error> {
        (**self).read().await
    }

    async fn write(&self, buf: &[u8]) -> Result<(), Self::Error> {
        (**self).write(buf).await
    }

    async fn writev(&self, bufs: &[&[u8]]) -> Result<(), Self::Error> {
        (**self).writev(bufs).await
    }

    fn poll_write_now(
        &self,
        cx: &mut core::task::Context<'_>,
        bufs: &[&[u8]],
    ) -> Option<core::task::Poll<Result<usize, Self::Error>>> {
        (**self).poll_write_now(cx, bufs)
    }

    fn poll_read_now(
        &self,
        cx: &mut core::task::Context<'_>,
    ) -> Option<core::task::Poll<Result<crate::Read, Self::Error>>> {
        (**self).poll_read_now(cx)
    }

    async fn close(&self) -> Result<(), Self::Error> {
        (**self).close().await
    }
});

forward!(async Console {
    fn log(&self, line: &str) {
        (**self).log(line)
    }

    async fn log_s(&self, line: &str) -> Result<(), ConsoleError> {
        (**self).log_s(line).await
    }
});

forward!(async TcpFlow {
    fn get_dest(&self) -> SocketAddrV4 {
        (**self).get_dest()
    }

    fn peer(&self) -> SocketAddr {
        (**self).peer()
    }

    async fn write_nodelay(&self, buf: &[u8]) -> Result<(), TcpError> {
        (**self).write_nodelay(buf).await
    }

    async fn writev_nodelay(&self, bufs: &[&[u8]]) -> Result<(), TcpError> {
        (**self).writev_nodelay(bufs).await
    }

    fn set_nodelay(&self, nodelay: bool) -> Result<(), TcpError> {
        (**self).set_nodelay(nodelay)
    }
});

forward!(async Block {
    async fn get_info(&self) -> BlockInfo {
        (**self).get_info().await
    }

    async fn read(&self, start_sector: u64, buffers: &mut [&mut [u8]]) -> Result<(), BlockError> {
        (**self).read(start_sector, buffers).await
    }

    async fn write(&self, start_sector: u64, buffers: &[&[u8]]) -> Result<(), BlockError> {
        (**self).write(start_sector, buffers).await
    }

    async fn read_at(&self, start_sector: u64, buffer: &mut [u8]) -> Result<(), BlockError> {
        (**self).read_at(start_sector, buffer).await
    }

    async fn write_at(&self, start_sector: u64, buffer: &[u8]) -> Result<(), BlockError> {
        (**self).write_at(start_sector, buffer).await
    }

    async fn flush(&self) -> Result<(), BlockError> {
        (**self).flush().await
    }
});

forward!(async KvRo {
    async fn read(&self, key: &str, offset: u64, length: u64) -> Result<Bytes, KvError> {
        (**self).read(key, offset, length).await
    }

    async fn size(&self, key: &str) -> Result<u64, KvError> {
        (**self).size(key).await
    }

    async fn exists(&self, key: &str) -> Result<Option<Entry>, KvError> {
        (**self).exists(key).await
    }

    async fn list(&self, key: &str) -> Result<Vec<(String, Entry)>, KvError> {
        (**self).list(key).await
    }

    async fn get(&self, key: &str) -> Result<Bytes, KvError> {
        (**self).get(key).await
    }

    async fn digest(&self, key: &str) -> Result<String, KvError> {
        (**self).digest(key).await
    }

    async fn get_partial(&self, key: &str, offset: u64, length: u64) -> Result<Bytes, KvError> {
        (**self).get_partial(key, offset, length).await
    }

    async fn last_modified(&self, key: &str) -> Result<Option<Duration>, KvError> {
        (**self).last_modified(key).await
    }
});

forward!(async KvRw {
    async fn set(&self, key: &str, value: &[u8]) -> Result<(), KvError> {
        (**self).set(key, value).await
    }

    async fn set_partial(&self, key: &str, offset: u64, data: &[u8]) -> Result<(), KvError> {
        (**self).set_partial(key, offset, data).await
    }

    async fn remove(&self, key: &str) -> Result<(), KvError> {
        (**self).remove(key).await
    }

    async fn rename(&self, source: &str, dest: &str) -> Result<(), KvError> {
        (**self).rename(source, dest).await
    }

    async fn allocate(
        &self,
        key: &str,
        size: u64,
        last_modified: Option<Duration>,
    ) -> Result<(), KvError> {
        (**self).allocate(key, size, last_modified).await
    }
});

forward!(sync MonotonicClock {
    fn elapsed_ns(&self) -> u64 {
        (**self).elapsed_ns()
    }

    fn period_ns(&self) -> Option<u64> {
        (**self).period_ns()
    }
});

forward!(async Fs {
    async fn read(&self, path: &str, offset: u64, length: u64) -> Result<Bytes, FsError> {
        (**self).read(path, offset, length).await
    }

    async fn size(&self, path: &str) -> Result<u64, FsError> {
        (**self).size(path).await
    }

    async fn format(&self, size: u64) -> Result<(), FsError> {
        (**self).format(size).await
    }

    async fn create(&self, path: &str) -> Result<(), FsError> {
        (**self).create(path).await
    }

    async fn mkdir(&self, path: &str) -> Result<(), FsError> {
        (**self).mkdir(path).await
    }

    async fn destroy(&self, path: &str) -> Result<(), FsError> {
        (**self).destroy(path).await
    }

    async fn stat(&self, path: &str) -> Result<Stat, FsError> {
        (**self).stat(path).await
    }

    async fn listdir(&self, path: &str) -> Result<Vec<String>, FsError> {
        (**self).listdir(path).await
    }

    async fn write(&self, path: &str, offset: u64, data: &[u8]) -> Result<(), FsError> {
        (**self).write(path, offset, data).await
    }

    async fn listdir_stat(&self, path: &str) -> Result<Vec<Stat>, FsError> {
        (**self).listdir_stat(path).await
    }

    async fn sync(&self) -> Result<(), FsError> {
        (**self).sync().await
    }
});

forward!(async Network {
    async fn write(&self, frame: &[u8]) -> Result<(), NetError> {
        (**self).write(frame).await
    }

    async fn writev(&self, parts: &[&[u8]]) -> Result<(), NetError> {
        (**self).writev(parts).await
    }

    async fn write_owned(&self, frame: Bytes) -> Result<(), NetError> {
        (**self).write_owned(frame).await
    }

    async fn write_many(&self, frames: Vec<Bytes>) -> Result<(), NetError> {
        (**self).write_many(frames).await
    }

    async fn listen(&self, handler: FrameHandler) -> Result<(), NetError> {
        (**self).listen(handler).await
    }

    fn mac(&self) -> MacAddr {
        (**self).mac()
    }

    fn mtu(&self) -> usize {
        (**self).mtu()
    }

    fn get_stats_counters(&self) -> Stats {
        (**self).get_stats_counters()
    }

    fn reset_stats_counters(&self) {
        (**self).reset_stats_counters()
    }
});

forward!(async Ethif {
    async fn write(&self, frame: &[u8]) -> Result<(), NetError> {
        (**self).write(frame).await
    }

    async fn writev(&self, parts: &[&[u8]]) -> Result<(), NetError> {
        (**self).writev(parts).await
    }

    fn mac(&self) -> MacAddr {
        (**self).mac()
    }

    async fn input(&self, handlers: &EthernetHandlers, frame: Bytes) {
        (**self).input(handlers, frame).await
    }
});

forward!(async Arp {
    fn get_ips(&self) -> Vec<Ipv4Addr> {
        (**self).get_ips()
    }

    async fn set_ips(&self, ips: Vec<Ipv4Addr>) -> Result<(), ArpError> {
        (**self).set_ips(ips).await
    }

    async fn add_ip(&self, ip: Ipv4Addr) -> Result<(), ArpError> {
        (**self).add_ip(ip).await
    }

    async fn remove_ip(&self, ip: Ipv4Addr) -> Result<(), ArpError> {
        (**self).remove_ip(ip).await
    }

    async fn query(&self, ip: Ipv4Addr) -> Result<MacAddr, ArpError> {
        (**self).query(ip).await
    }
});

forward!(async Ipv4 {
    fn get_ip(&self) -> Vec<Ipv4Addr> {
        (**self).get_ip()
    }

    async fn set_ip(&self, ip: Ipv4Addr) -> Result<(), IpError> {
        (**self).set_ip(ip).await
    }

    fn get_ip_netmasks(&self) -> Vec<Ipv4Addr> {
        (**self).get_ip_netmasks()
    }

    async fn set_ip_netmask(&self, netmask: Ipv4Addr) -> Result<(), IpError> {
        (**self).set_ip_netmask(netmask).await
    }

    fn get_ip_gateways(&self) -> Vec<Ipv4Addr> {
        (**self).get_ip_gateways()
    }

    async fn set_ip_gateways(&self, gateways: Vec<Ipv4Addr>) -> Result<(), IpError> {
        (**self).set_ip_gateways(gateways).await
    }

    fn get_source(&self, dst: Ipv4Addr) -> Ipv4Addr {
        (**self).get_source(dst)
    }

    async fn write(&self, dst: Ipv4Addr, protocol: u8, payload: &[&[u8]]) -> Result<(), IpError> {
        (**self).write(dst, protocol, payload).await
    }
});

forward!(async Icmpv4 {
    async fn write(&self, dst: Ipv4Addr, message: &[u8]) -> Result<(), IcmpError> {
        (**self).write(dst, message).await
    }
});

forward!(async Udpv4 {
    async fn write(
        &self,
        source_port: Option<u16>,
        dst: Ipv4Addr,
        dst_port: u16,
        data: &[u8],
    ) -> Result<(), UdpError> {
        (**self).write(source_port, dst, dst_port, data).await
    }
});

forward!(async Tcpv4 {
    type Flow = T::Flow;

    async fn create_connection(&self, dst: SocketAddrV4) -> Result<Self::Flow, TcpError> {
        (**self).create_connection(dst).await
    }
});

forward!(async StackV4 {
    type Udp = T::Udp;
    type Tcp = T::Tcp;
    type Ip = T::Ip;
    type TcpListener = T::TcpListener;
    type UdpListener = T::UdpListener;

    fn udpv4(&self) -> Self::Udp {
        (**self).udpv4()
    }

    fn tcpv4(&self) -> Self::Tcp {
        (**self).tcpv4()
    }

    fn ipv4(&self) -> Self::Ip {
        (**self).ipv4()
    }

    async fn bind_tcpv4(&self, port: u16) -> Result<Self::TcpListener, StackError> {
        (**self).bind_tcpv4(port).await
    }

    async fn bind_udpv4(&self, port: u16) -> Result<Self::UdpListener, StackError> {
        (**self).bind_udpv4(port).await
    }

    fn listen_udpv4_with(&self, port: u16, callback: UdpCallback) {
        (**self).listen_udpv4_with(port, callback)
    }

    fn listen_tcpv4_with(&self, port: u16, callback: TcpCallback<StackFlow<Self>>) {
        (**self).listen_tcpv4_with(port, callback)
    }

    async fn listen(&self) -> Result<(), StackError> {
        (**self).listen().await
    }
});

forward!(async UdpV4V6 {
    async fn write(
        &self,
        source_port: Option<u16>,
        dst: SocketAddr,
        data: &[u8],
    ) -> Result<(), UdpError> {
        (**self).write(source_port, dst, data).await
    }
});

forward!(async TcpV4V6 {
    type Flow = T::Flow;

    async fn create_connection(&self, dst: SocketAddr) -> Result<Self::Flow, TcpError> {
        (**self).create_connection(dst).await
    }
});

forward!(async StackV4V6 {
    type Udp = T::Udp;
    type Tcp = T::Tcp;
    type TcpListener = T::TcpListener;
    type UdpListener = T::UdpListener;

    fn udp(&self) -> Self::Udp {
        (**self).udp()
    }

    fn tcp(&self) -> Self::Tcp {
        (**self).tcp()
    }

    fn configured_ips(&self) -> Vec<IpCidr> {
        (**self).configured_ips()
    }

    async fn bind_tcp(&self, port: u16) -> Result<Self::TcpListener, StackError> {
        (**self).bind_tcp(port).await
    }

    async fn bind_udp(&self, port: u16) -> Result<Self::UdpListener, StackError> {
        (**self).bind_udp(port).await
    }

    fn listen_udp_with(&self, port: u16, callback: UdpCallbackV4V6) {
        (**self).listen_udp_with(port, callback)
    }

    fn listen_tcp_with(&self, port: u16, callback: TcpCallback<StackFlowV4V6<Self>>) {
        (**self).listen_tcp_with(port, callback)
    }

    async fn listen_v4v6(&self) -> Result<(), StackError> {
        (**self).listen_v4v6().await
    }
});

forward!(async Channel {
    type Flow = T::Flow;

    async fn read_char(&self) -> ChannelResult<Self, Option<u8>> {
        (**self).read_char().await
    }

    async fn read_until(&self, delimiter: u8) -> ChannelResult<Self, (bool, Bytes)> {
        (**self).read_until(delimiter).await
    }

    async fn read_some(&self, max: Option<usize>) -> ChannelResult<Self, Read> {
        (**self).read_some(max).await
    }

    async fn read_line(&self) -> ChannelResult<Self, Option<Bytes>> {
        (**self).read_line().await
    }

    fn write_char(&self, byte: u8) {
        (**self).write_char(byte)
    }

    fn write_string(&self, text: &str) {
        (**self).write_string(text)
    }

    fn write_buffer(&self, bytes: &[u8]) {
        (**self).write_buffer(bytes)
    }

    fn write_line(&self, line: &[u8]) {
        (**self).write_line(line)
    }

    async fn flush(&self) -> ChannelResult<Self, ()> {
        (**self).flush().await
    }

    async fn close(&self) -> ChannelResult<Self, ()> {
        (**self).close().await
    }
});
