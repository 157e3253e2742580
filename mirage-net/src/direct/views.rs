//! The direct stack's UDP, TCP, IPv4 and ICMP views.

use super::flow::DirectFlow;
use super::state::Shared;
#[allow(unused_imports)]
use crate::alloc_prelude::*;
use alloc::rc::Rc;
use core::future::poll_fn;
use core::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use core::task::Poll;
use mirage_types::{
    Device, IcmpError, Icmpv4, IpError, Ipv4, TcpError, Tcpv4, UdpError, Udpv4, async_trait,
};
use smoltcp::socket::{icmp, tcp, udp};
use smoltcp::wire::{IpAddress, IpEndpoint};

macro_rules! view {
    ($name:ident, $doc:literal) => {
        #[doc = $doc]
        #[derive(Clone)]
        pub struct $name {
            shared: Rc<Shared>,
        }

        impl $name {
            pub(crate) fn new(shared: Rc<Shared>) -> Self {
                $name { shared }
            }
        }

        #[async_trait(?Send)]
        impl Device for $name {
            /// A view owns nothing: disconnect the stack to stop it.
            async fn disconnect(&self) {}
        }
    };
}

view!(
    DirectUdp,
    "V1 `UDPV4` on the direct stack (a handle onto it)."
);
view!(
    DirectTcp,
    "V1 `TCPV4` on the direct stack (a handle onto it)."
);
view!(
    DirectIpv4,
    "V1 `IPV4` on the direct stack: its address, netmask and gateways."
);
view!(
    DirectIcmpv4,
    "V1 `ICMPV4` on the direct stack. Echo requests are answered by the stack."
);

#[async_trait(?Send)]
impl Udpv4 for DirectUdp {
    /// Sends one datagram, from `source_port` (or an ephemeral port). Waits while the
    /// socket's send buffer is full.
    async fn write(
        &self,
        source_port: Option<u16>,
        dst: Ipv4Addr,
        dst_port: u16,
        data: &[u8],
    ) -> Result<(), UdpError> {
        send_udp(&self.shared, source_port, (dst, dst_port).into(), data).await
    }
}

/// Sends one datagram to `dst`, from `source_port` (or the ephemeral port of writes that
/// name none). Waits while the socket's send buffer is full. An IPv6 datagram must fit one
/// packet (smoltcp does not fragment IPv6), and needs an IPv6 address on the stack.
pub(crate) async fn send_udp(
    shared: &Shared,
    source_port: Option<u16>,
    dst: SocketAddr,
    data: &[u8],
) -> Result<(), UdpError> {
    let dst = crate::addr::canonical(dst);
    let max = match dst {
        SocketAddr::V4(_) => mirage_types::MAX_UDP_PAYLOAD,
        SocketAddr::V6(_) => {
            if !shared.state.borrow().has_ipv6() {
                return Err(UdpError::Unknown(format!(
                    "cannot send to {dst}: this stack has no IPv6"
                )));
            }
            shared.state.borrow().queues.mtu.saturating_sub(40 + 8)
        }
    };
    if data.len() > max {
        return Err(UdpError::TooLong(data.len()));
    }
    let handle = {
        let mut state = shared.state.borrow_mut();
        let port = match source_port {
            Some(port) if port != 0 => port,
            // One ephemeral port for every write that names none.
            _ => match state.ephemeral_udp {
                Some(port) => port,
                None => {
                    let port = state.ephemeral_port();
                    state.ephemeral_udp = Some(port);
                    port
                }
            },
        };
        state.udp_socket(port)
    };
    let endpoint = IpEndpoint::new(IpAddress::from(dst.ip()), dst.port());
    poll_fn(|cx| {
        if shared.disconnected.get() {
            return Poll::Ready(Err(UdpError::Disconnected));
        }
        let mut state = shared.state.borrow_mut();
        let socket = state.sockets.get_mut::<udp::Socket>(handle);
        match socket.send_slice(data, endpoint) {
            Ok(()) => {
                shared.wake.notify();
                Poll::Ready(Ok(()))
            }
            Err(udp::SendError::BufferFull) => {
                socket.register_send_waker(cx.waker());
                Poll::Pending
            }
            Err(error) => Poll::Ready(Err(UdpError::Unknown(error.to_string()))),
        }
    })
    .await
}

#[async_trait(?Send)]
impl Tcpv4 for DirectTcp {
    type Flow = DirectFlow;

    /// Connects to `dst`; [`TcpError::Refused`] on a reset, [`TcpError::Timeout`] when nothing
    /// answers within ten seconds.
    async fn create_connection(&self, dst: SocketAddrV4) -> Result<DirectFlow, TcpError> {
        connect(&self.shared, dst.into()).await
    }
}

/// Connects to `dst` (of either family; IPv6 needs an IPv6 address on the stack):
/// [`TcpError::Refused`] on a reset, [`TcpError::Timeout`] when nothing answers within ten
/// seconds.
pub(crate) async fn connect(shared: &Rc<Shared>, dst: SocketAddr) -> Result<DirectFlow, TcpError> {
    if shared.disconnected.get() {
        return Err(TcpError::Disconnected);
    }
    let dst = crate::addr::canonical(dst);
    if dst.is_ipv6() && !shared.state.borrow().has_ipv6() {
        return Err(TcpError::Unknown(format!(
            "cannot reach {dst}: this stack has no IPv6"
        )));
    }
    let (handle, port) = {
        let mut state = shared.state.borrow_mut();
        let state = &mut *state;
        let port = state.ephemeral_port();
        let handle = state
            .add_tcp_socket(state.tcp_timeout)
            .map_err(|e| TcpError::Unknown(format!("no memory for a socket: {e}")))?;
        let remote = IpEndpoint::new(IpAddress::from(dst.ip()), dst.port());
        let socket = state.sockets.get_mut::<tcp::Socket>(handle);
        if let Err(e) = socket.connect(state.iface.context(), remote, port) {
            state.free_socket(handle);
            return Err(TcpError::Unknown(format!("cannot connect to {dst}: {e}")));
        }
        (handle, port)
    };
    shared.wake.notify();
    let established = poll_fn(|cx| {
        let mut state = shared.state.borrow_mut();
        let socket = state.sockets.get_mut::<tcp::Socket>(handle);
        match socket.state() {
            tcp::State::SynSent | tcp::State::SynReceived => {
                socket.register_send_waker(cx.waker());
                socket.register_recv_waker(cx.waker());
                Poll::Pending
            }
            tcp::State::Closed => Poll::Ready(Err(TcpError::Refused)),
            _ => Poll::Ready(Ok(())),
        }
    });
    let limit = shared.connect_timeout;
    let outcome = shared.platform.timeout(limit, established).await;
    let result = match outcome {
        Some(Ok(())) => return Ok(DirectFlow::new(shared.clone(), handle, port, dst)),
        Some(Err(error)) => Err(error),
        None => Err(TcpError::Timeout),
    };
    let mut state = shared.state.borrow_mut();
    state.sockets.get_mut::<tcp::Socket>(handle).abort();
    state.orphan(handle);
    shared.wake.notify();
    result
}

#[async_trait(?Send)]
impl Ipv4 for DirectIpv4 {
    fn get_ip(&self) -> Vec<Ipv4Addr> {
        self.shared.state.borrow().address().into_iter().collect()
    }

    async fn set_ip(&self, ip: Ipv4Addr) -> Result<(), IpError> {
        self.change(|config| config.address = ip)
    }

    fn get_ip_netmasks(&self) -> Vec<Ipv4Addr> {
        self.shared
            .state
            .borrow()
            .config
            .iter()
            .map(|c| c.netmask)
            .collect()
    }

    async fn set_ip_netmask(&self, netmask: Ipv4Addr) -> Result<(), IpError> {
        self.change(|config| config.netmask = netmask)
    }

    fn get_ip_gateways(&self) -> Vec<Ipv4Addr> {
        self.shared
            .state
            .borrow()
            .config
            .as_ref()
            .map(|c| c.gateways.clone())
            .unwrap_or_default()
    }

    async fn set_ip_gateways(&self, gateways: Vec<Ipv4Addr>) -> Result<(), IpError> {
        self.change(|config| config.gateways = gateways)
    }

    fn get_source(&self, _dst: Ipv4Addr) -> Ipv4Addr {
        self.shared
            .state
            .borrow()
            .address()
            .unwrap_or(Ipv4Addr::UNSPECIFIED)
    }

    /// Raw IP output is not offered by this stack (smoltcp's raw sockets are not enabled).
    async fn write(
        &self,
        _dst: Ipv4Addr,
        _protocol: u8,
        _payload: &[&[u8]],
    ) -> Result<(), IpError> {
        Err(IpError::Unimplemented)
    }
}

impl DirectIpv4 {
    fn change(&self, edit: impl FnOnce(&mut mirage_types::Ipv4Config)) -> Result<(), IpError> {
        let mut state = self.shared.state.borrow_mut();
        let mut config = state.config.clone().unwrap_or_default();
        edit(&mut config);
        state.configure(config)?;
        self.shared.wake.notify();
        Ok(())
    }
}

#[async_trait(?Send)]
impl Icmpv4 for DirectIcmpv4 {
    async fn write(&self, dst: Ipv4Addr, message: &[u8]) -> Result<(), IcmpError> {
        let mut state = self.shared.state.borrow_mut();
        let handle = match state.icmp {
            Some(handle) => handle,
            None => {
                let mut socket = icmp::Socket::new(
                    icmp::PacketBuffer::new(
                        vec![icmp::PacketMetadata::EMPTY; 16],
                        vec![0; 16 * 1024],
                    ),
                    icmp::PacketBuffer::new(
                        vec![icmp::PacketMetadata::EMPTY; 16],
                        vec![0; 16 * 1024],
                    ),
                );
                let _ = socket.bind(icmp::Endpoint::Ident(0x4d52));
                let handle = state.sockets.add(socket);
                state.icmp = Some(handle);
                handle
            }
        };
        state
            .sockets
            .get_mut::<icmp::Socket>(handle)
            .send_slice(message, IpAddress::Ipv4(dst))
            .map_err(|e| IcmpError::Unknown(e.to_string()))?;
        self.shared.wake.notify();
        Ok(())
    }
}
