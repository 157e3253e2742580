//! The socket stack's bound ports: a TCP listener and a UDP socket on each interface.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

use super::{Inner, SocketFlow};
use bytes::Bytes;
use mirage_types::{
    IoError, StackError, TcpError, TcpListener, UdpDatagram, UdpError, UdpListener, async_trait,
};
use std::future::poll_fn;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::rc::Rc;
use std::task::Poll;
use tokio::io::ReadBuf;
use tokio::net::{TcpSocket, UdpSocket};

/// Pending connections the kernel keeps per listening port.
const BACKLOG: u32 = 4096;

/// A bound TCP port of a [`super::SocketStack`]: one kernel listener per interface.
pub struct SocketTcpListener {
    inner: Rc<Inner>,
    listeners: Vec<tokio::net::TcpListener>,
    local: SocketAddrV4,
}

/// A bound UDP port of a [`super::SocketStack`]: one kernel socket per interface, whose
/// receive buffer is the bounded queue.
pub struct SocketUdpListener {
    inner: Rc<Inner>,
    sockets: Vec<(Ipv4Addr, Rc<UdpSocket>)>,
    local: SocketAddrV4,
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

fn local_port(address: io::Result<SocketAddr>) -> u16 {
    address.map(|a| a.port()).unwrap_or(0)
}

pub(crate) fn bind_tcp(inner: &Rc<Inner>, port: u16) -> Result<SocketTcpListener, StackError> {
    if inner.disconnected.get() {
        return Err(StackError::Disconnected);
    }
    let mut listeners = Vec::new();
    let mut port_bound = port;
    for &address in &inner.config.interfaces {
        let socket = TcpSocket::new_v4().map_err(|e| bind_error("TCP", port, e))?;
        let listener = socket
            .set_reuseaddr(true)
            .and_then(|()| socket.bind(SocketAddr::from((address, port_bound))))
            .and_then(|()| socket.listen(BACKLOG))
            .map_err(|e| bind_error("TCP", port, e))?;
        // Port 0: the kernel's choice on the first interface is the port on the others.
        port_bound = local_port(listener.local_addr());
        listeners.push(listener);
    }
    Ok(SocketTcpListener {
        inner: inner.clone(),
        listeners,
        local: SocketAddrV4::new(inner.source_address(), port_bound),
    })
}

pub(crate) fn bind_udp(inner: &Rc<Inner>, port: u16) -> Result<SocketUdpListener, StackError> {
    if inner.disconnected.get() {
        return Err(StackError::Disconnected);
    }
    let mut sockets = Vec::new();
    let mut port_bound = port;
    for &address in &inner.config.interfaces {
        let socket = std::net::UdpSocket::bind((address, port_bound))
            .and_then(|socket| {
                socket.set_nonblocking(true)?;
                UdpSocket::from_std(socket)
            })
            .map_err(|e| bind_error("UDP", port, e))?;
        port_bound = local_port(socket.local_addr());
        sockets.push((address, Rc::new(socket)));
    }
    // Writes from this port leave from the listening socket, so replies come from it.
    if let Some((_, socket)) = sockets.first() {
        inner
            .udp_sockets
            .borrow_mut()
            .insert(port_bound, socket.clone());
    }
    Ok(SocketUdpListener {
        inner: inner.clone(),
        sockets,
        local: SocketAddrV4::new(inner.source_address(), port_bound),
        buffer: std::cell::RefCell::new(vec![0; mirage_types::MAX_UDP_PAYLOAD]),
    })
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
        self.local
    }
}

impl SocketTcpListener {
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
                Ok((stream, SocketAddr::V4(peer))) => {
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
                Ok(_) => continue,
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
        tokio::select! {
            () = self.inner.disconnected() => Err(UdpError::Disconnected),
            datagram = self.recv_any() => Ok(datagram),
        }
    }

    /// From the listening socket (the stack's writes from this port use it too).
    async fn send_to(&self, to: SocketAddrV4, data: &[u8]) -> Result<(), UdpError> {
        use mirage_types::Udpv4;
        super::udp::SocketUdp::new(self.inner.clone())
            .write(Some(self.local.port()), *to.ip(), to.port(), data)
            .await
    }

    fn local_addr(&self) -> SocketAddrV4 {
        self.local
    }

    /// The kernel's count of datagrams its sockets dropped (`SO_MEMINFO`): the receive
    /// buffer was full.
    fn dropped(&self) -> u64 {
        self.sockets
            .iter()
            .map(|(_, socket)| kernel_drops(socket))
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
    async fn recv_any(&self) -> UdpDatagram {
        let port = self.local.port();
        poll_fn(|cx| {
            let mut buffer = self.buffer.borrow_mut();
            for (address, socket) in &self.sockets {
                let mut read = ReadBuf::new(&mut buffer);
                match socket.poll_recv_from(cx, &mut read) {
                    Poll::Ready(Ok(SocketAddr::V4(from))) => {
                        return Poll::Ready(UdpDatagram {
                            src: *from.ip(),
                            src_port: from.port(),
                            dst: *address,
                            dst_port: port,
                            data: Bytes::copy_from_slice(read.filled()),
                        });
                    }
                    // An ICMP error for an earlier send from this socket, or an IPv6 sender:
                    // not a datagram, and not fatal. Poll again so the waker stays set.
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
        let mut sockets = self.inner.udp_sockets.borrow_mut();
        if let (Some(kept), Some((_, ours))) =
            (sockets.get(&self.local.port()), self.sockets.first())
            && Rc::ptr_eq(kept, ours)
        {
            sockets.remove(&self.local.port());
        }
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
