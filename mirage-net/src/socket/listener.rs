//! The socket stack's bound ports: a TCP listener and a UDP socket on each interface.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

use super::{BindAddress, Inner, SocketFlow, UdpSender};
use bytes::Bytes;
use mirage_types::{
    IoError, StackError, TcpError, TcpListener, UdpDatagram, UdpDatagramV4V6, UdpError,
    UdpListener, async_trait,
};
use socket2::{Domain, Type};
use std::future::poll_fn;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4};
use std::rc::Rc;
use std::task::Poll;
use tokio::io::ReadBuf;
use tokio::net::UdpSocket;

/// Pending connections the kernel keeps per listening port.
const BACKLOG: i32 = 4096;

/// A bound TCP port of a [`super::SocketStack`]: one kernel listener per interface.
pub struct SocketTcpListener {
    inner: Rc<Inner>,
    listeners: Vec<tokio::net::TcpListener>,
    local: SocketAddr,
}

/// A bound UDP port of a [`super::SocketStack`]: one kernel socket per interface, whose
/// receive buffer is the bounded queue.
pub struct SocketUdpListener {
    inner: Rc<Inner>,
    sockets: Vec<(IpAddr, UdpSender)>,
    local: SocketAddr,
    buffer: std::cell::RefCell<Vec<u8>>,
}

fn bind_error(protocol: &'static str, port: u16, error: io::Error) -> StackError {
    let hint = match error.kind() {
        io::ErrorKind::PermissionDenied => " (ports below 1024 need root or CAP_NET_BIND_SERVICE)",
        io::ErrorKind::AddrInUse => " (another program holds the port)",
        _ => "",
    };
    StackError::Io(IoError::new(
        format!("binding {protocol} port {port}{hint}"),
        error,
    ))
}

/// A socket of `kind` bound to `address` and `port`: address reuse for TCP, and for IPv6
/// `IPV6_V6ONLY` set as `address.dual` says (never left to the host's default).
pub(crate) fn bound_socket(
    kind: Type,
    address: BindAddress,
    port: u16,
) -> io::Result<socket2::Socket> {
    let domain = if address.ip.is_ipv4() {
        Domain::IPV4
    } else {
        Domain::IPV6
    };
    let socket = socket2::Socket::new(domain, kind, None)?;
    socket.set_nonblocking(true)?;
    if kind == Type::STREAM {
        socket.set_reuse_address(true)?;
    }
    if address.ip.is_ipv6() {
        socket.set_only_v6(!address.dual)?;
    }
    socket.bind(&SocketAddr::new(address.ip, port).into())?;
    Ok(socket)
}

fn local_port(address: io::Result<SocketAddr>) -> u16 {
    address.map(|a| a.port()).unwrap_or(0)
}

/// The address a listener reports: the first bound address (unspecified for "all"; for a
/// V1 stack its first interface, as before).
fn reported_address(addresses: &[BindAddress], port: u16) -> SocketAddr {
    let ip = addresses
        .first()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |a| a.ip);
    SocketAddr::new(ip, port)
}

pub(crate) fn bind_tcp(
    inner: &Rc<Inner>,
    port: u16,
    with_ipv6: bool,
) -> Result<SocketTcpListener, StackError> {
    if inner.disconnected.get() {
        return Err(StackError::Disconnected);
    }
    let addresses = inner.bind_addresses(with_ipv6);
    let mut listeners = Vec::new();
    let mut port_bound = port;
    for &address in &addresses {
        let listener = bound_socket(Type::STREAM, address, port_bound)
            .and_then(|socket| {
                socket.listen(BACKLOG)?;
                tokio::net::TcpListener::from_std(socket.into())
            })
            .map_err(|e| bind_error("TCP", port, e))?;
        // Port 0: the kernel's choice on the first interface is the port on the others.
        port_bound = local_port(listener.local_addr());
        listeners.push(listener);
    }
    Ok(SocketTcpListener {
        inner: inner.clone(),
        listeners,
        local: reported_address(&addresses, port_bound),
    })
}

pub(crate) fn bind_udp(
    inner: &Rc<Inner>,
    port: u16,
    with_ipv6: bool,
) -> Result<SocketUdpListener, StackError> {
    if inner.disconnected.get() {
        return Err(StackError::Disconnected);
    }
    let addresses = inner.bind_addresses(with_ipv6);
    let mut sockets = Vec::new();
    let mut port_bound = port;
    for &address in &addresses {
        let socket = bound_socket(Type::DGRAM, address, port_bound)
            .and_then(|socket| UdpSocket::from_std(socket.into()))
            .map_err(|e| bind_error("UDP", port, e))?;
        port_bound = local_port(socket.local_addr());
        let sender = UdpSender {
            socket: Rc::new(socket),
            v6: address.ip.is_ipv6(),
        };
        sockets.push((address.ip, sender));
    }
    // Writes from this port leave from the listening sockets, so replies come from it: the
    // first of each family (a dual-stack socket serves both).
    {
        let mut senders = inner.udp_sockets.borrow_mut();
        for v6 in [false, true] {
            let fits = |(ip, sender): &&(IpAddr, UdpSender)| {
                sender.v6 == v6 || (!v6 && dual(&addresses, *ip))
            };
            if let Some((_, sender)) = sockets.iter().find(fits) {
                senders.insert((port_bound, v6), sender.clone());
            }
        }
    }
    Ok(SocketUdpListener {
        inner: inner.clone(),
        sockets,
        local: reported_address(&addresses, port_bound),
        buffer: std::cell::RefCell::new(vec![0; mirage_types::MAX_UDP_PAYLOAD_V6]),
    })
}

/// Whether `ip` is bound as a dual-stack socket.
fn dual(addresses: &[BindAddress], ip: IpAddr) -> bool {
    addresses.iter().any(|a| a.ip == ip && a.dual)
}

#[async_trait(?Send)]
impl TcpListener for SocketTcpListener {
    type Flow = SocketFlow;

    /// The next connection on any interface. Running out of descriptors does not end it: it
    /// waits a moment for the process to free some and tries again.
    async fn accept(&self) -> Result<SocketFlow, TcpError> {
        tokio::select! {
            () = self.inner.disconnected() => Err(TcpError::Disconnected),
            accepted = self.accept_any() => Ok(accepted),
        }
    }

    fn local_addr(&self) -> SocketAddrV4 {
        crate::addr::ipv4_view(self.local)
    }
}

impl SocketTcpListener {
    /// The address and port it listens on, of either family.
    pub(crate) fn local(&self) -> SocketAddr {
        self.local
    }

    async fn accept_any(&self) -> SocketFlow {
        loop {
            let accepted = poll_fn(|cx| {
                for listener in &self.listeners {
                    if let Poll::Ready(result) = listener.poll_accept(cx) {
                        return Poll::Ready(result);
                    }
                }
                Poll::Pending
            })
            .await;
            match accepted {
                Ok((stream, peer)) => {
                    let open = &self.inner.open_connections;
                    if open.get() >= self.inner.config.max_connections {
                        // Full: refuse at once with a reset, rather than leave the peer
                        // waiting in the backlog.
                        let _ = stream.set_zero_linger();
                        drop(stream);
                        continue;
                    }
                    open.set(open.get() + 1);
                    return SocketFlow::new(
                        stream,
                        peer,
                        self.inner.config.idle_timeout,
                        Some(open.clone()),
                    );
                }
                Err(error) => {
                    if matches!(
                        error.raw_os_error(),
                        Some(libc::EMFILE) | Some(libc::ENFILE)
                    ) {
                        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    }
                    // A connection aborted before it was accepted: take the next.
                }
            }
        }
    }
}

#[async_trait(?Send)]
impl UdpListener for SocketUdpListener {
    async fn recv(&self) -> Result<UdpDatagram, UdpError> {
        loop {
            // A V1 port is bound on IPv4 sockets only: nothing else arrives.
            if let Ok(datagram) = UdpDatagram::try_from(self.recv_either().await?) {
                return Ok(datagram);
            }
        }
    }

    /// From the listening socket (the stack's writes from this port use it too).
    async fn send_to(&self, to: SocketAddrV4, data: &[u8]) -> Result<(), UdpError> {
        self.send_either(to.into(), data).await
    }

    fn local_addr(&self) -> SocketAddrV4 {
        crate::addr::ipv4_view(self.local)
    }

    /// The kernel's count of datagrams its sockets dropped (`SO_MEMINFO`): the receive
    /// buffer was full.
    fn dropped(&self) -> u64 {
        self.sockets
            .iter()
            .map(|(_, sender)| kernel_drops(&sender.socket))
            .sum()
    }
}

/// `SO_MEMINFO` (Linux 3.16): the socket's memory counters, `SK_MEMINFO_DROPS` among them.
const SO_MEMINFO: libc::c_int = 55;
/// How many counters `SO_MEMINFO` gives.
const SK_MEMINFO_VARS: usize = 9;

/// Datagrams the kernel dropped on `socket` (0 where it cannot say).
fn kernel_drops(socket: &UdpSocket) -> u64 {
    use std::os::fd::AsRawFd;
    let mut info = [0u32; SK_MEMINFO_VARS];
    let mut len = std::mem::size_of_val(&info) as libc::socklen_t;
    // SAFETY: the buffer and its length describe `info`; the descriptor is open while
    // `socket` lives.
    let result = unsafe {
        libc::getsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            SO_MEMINFO,
            info.as_mut_ptr().cast(),
            &mut len,
        )
    };
    if result == 0 {
        u64::from(info[libc::SK_MEMINFO_DROPS as usize])
    } else {
        0
    }
}

impl SocketUdpListener {
    /// The next datagram, of either family, or `Disconnected`.
    pub(crate) async fn recv_either(&self) -> Result<UdpDatagramV4V6, UdpError> {
        tokio::select! {
            () = self.inner.disconnected() => Err(UdpError::Disconnected),
            datagram = self.recv_any() => Ok(datagram),
        }
    }

    /// Sends from this port, from the socket of `to`'s family.
    pub(crate) async fn send_either(&self, to: SocketAddr, data: &[u8]) -> Result<(), UdpError> {
        super::udp::send(&self.inner, Some(self.local.port()), to, data).await
    }

    /// The address and port it is bound to, of either family.
    pub(crate) fn local(&self) -> SocketAddr {
        self.local
    }

    async fn recv_any(&self) -> UdpDatagramV4V6 {
        let port = self.local.port();
        poll_fn(|cx| {
            let mut buffer = self.buffer.borrow_mut();
            for (address, sender) in &self.sockets {
                let mut read = ReadBuf::new(&mut buffer);
                match sender.socket.poll_recv_from(cx, &mut read) {
                    Poll::Ready(Ok(from)) => {
                        let from = crate::addr::canonical(from);
                        // A dual-stack socket bound to `::` cannot tell the address asked.
                        let dst = match (address, from) {
                            (IpAddr::V6(v6), SocketAddr::V4(_)) if v6.is_unspecified() => {
                                IpAddr::V4(Ipv4Addr::UNSPECIFIED)
                            }
                            _ => *address,
                        };
                        return Poll::Ready(UdpDatagramV4V6 {
                            src: from.ip(),
                            src_port: from.port(),
                            dst,
                            dst_port: port,
                            data: Bytes::copy_from_slice(read.filled()),
                        });
                    }
                    // An ICMP error for an earlier send from this socket: not a datagram,
                    // and not fatal. Poll again so the waker stays set.
                    Poll::Ready(_) => cx.waker().wake_by_ref(),
                    Poll::Pending => {}
                }
            }
            Poll::Pending
        })
        .await
    }
}

impl Drop for SocketUdpListener {
    fn drop(&mut self) {
        let port = self.local.port();
        let ours = |kept: &UdpSender| {
            self.sockets
                .iter()
                .any(|(_, sender)| Rc::ptr_eq(&sender.socket, &kept.socket))
        };
        self.inner
            .udp_sockets
            .borrow_mut()
            .retain(|&(bound, _), kept| bound != port || !ours(kept));
    }
}

impl std::fmt::Debug for SocketTcpListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocketTcpListener")
            .field("local", &self.local)
            .finish()
    }
}

impl std::fmt::Debug for SocketUdpListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocketUdpListener")
            .field("local", &self.local)
            .finish()
    }
}
