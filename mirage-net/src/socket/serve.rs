//! The serving loop behind `SocketStack::listen`.

use super::{Inner, SocketFlow};
use bytes::Bytes;
use futures::StreamExt;
use futures::future::LocalBoxFuture;
use futures::stream::FuturesUnordered;
use mirage_types::{StackError, UdpDatagram};
use std::collections::BTreeSet;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::rc::Rc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpSocket, UdpSocket};

/// Pending connections the kernel keeps per listening port.
const BACKLOG: u32 = 4096;

type Server = LocalBoxFuture<'static, Result<(), StackError>>;

/// Binds every registered port, serves them, picks up new registrations, and returns when
/// the stack is disconnected (or a port cannot be bound).
pub(crate) async fn serve(inner: &Rc<Inner>) -> Result<(), StackError> {
    let mut servers: FuturesUnordered<Server> = FuturesUnordered::new();
    let mut udp_served = BTreeSet::new();
    let mut tcp_served = BTreeSet::new();
    loop {
        if inner.disconnected.get() {
            return Ok(());
        }
        let udp_ports: Vec<u16> = inner.udp_listeners.borrow().keys().copied().collect();
        for port in udp_ports {
            if udp_served.insert(port) {
                for &address in &inner.config.interfaces {
                    let socket = bind_udp(address, port)?;
                    if address == inner.source_address() {
                        inner.udp_sockets.borrow_mut().insert(port, socket.clone());
                    }
                    servers.push(Box::pin(serve_udp(inner.clone(), socket, address, port)));
                }
            }
        }
        let tcp_ports: Vec<u16> = inner.tcp_listeners.borrow().keys().copied().collect();
        for port in tcp_ports {
            if tcp_served.insert(port) {
                for &address in &inner.config.interfaces {
                    let listener = bind_tcp(address, port)?;
                    servers.push(Box::pin(serve_tcp(inner.clone(), listener, port)));
                }
            }
        }
        tokio::select! {
            () = inner.changed.notified() => {}
            Some(result) = servers.next() => result?,
        }
    }
}

fn bind_error(protocol: &'static str, port: u16, error: io::Error) -> StackError {
    let hint = match error.kind() {
        io::ErrorKind::PermissionDenied => " (ports below 1024 need root or CAP_NET_BIND_SERVICE)",
        io::ErrorKind::AddrInUse => " (another program holds the port)",
        _ => "",
    };
    StackError::Bind {
        protocol,
        port,
        reason: format!("{error}{hint}"),
    }
}

fn bind_udp(address: Ipv4Addr, port: u16) -> Result<Rc<UdpSocket>, StackError> {
    std::net::UdpSocket::bind((address, port))
        .and_then(|socket| {
            socket.set_nonblocking(true)?;
            UdpSocket::from_std(socket)
        })
        .map(Rc::new)
        .map_err(|e| bind_error("UDP", port, e))
}

fn bind_tcp(address: Ipv4Addr, port: u16) -> Result<TcpListener, StackError> {
    let socket = TcpSocket::new_v4().map_err(|e| bind_error("TCP", port, e))?;
    socket
        .set_reuseaddr(true)
        .and_then(|()| socket.bind(SocketAddr::from((address, port))))
        .and_then(|()| socket.listen(BACKLOG))
        .map_err(|e| bind_error("TCP", port, e))
}

async fn serve_udp(
    inner: Rc<Inner>,
    socket: Rc<UdpSocket>,
    address: Ipv4Addr,
    port: u16,
) -> Result<(), StackError> {
    let mut buf = vec![0u8; mirage_types::MAX_UDP_PAYLOAD];
    loop {
        let (len, from) = match socket.recv_from(&mut buf).await {
            Ok(received) => received,
            // An ICMP error for an earlier send from this socket: not fatal to serving.
            Err(_) => continue,
        };
        let SocketAddr::V4(from) = from else { continue };
        let Some(callback) = inner.udp_listeners.borrow().get(&port).cloned() else {
            continue;
        };
        let datagram = UdpDatagram {
            src: *from.ip(),
            src_port: from.port(),
            dst: address,
            dst_port: port,
            data: Bytes::copy_from_slice(&buf[..len]),
        };
        tokio::task::spawn_local(callback(datagram));
    }
}

async fn serve_tcp(inner: Rc<Inner>, listener: TcpListener, port: u16) -> Result<(), StackError> {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                // Out of descriptors or a connection aborted before accept: keep serving,
                // giving the process a moment to free descriptors.
                if matches!(
                    error.raw_os_error(),
                    Some(libc::EMFILE) | Some(libc::ENFILE)
                ) {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                continue;
            }
        };
        let SocketAddr::V4(peer) = peer else { continue };
        let Some(callback) = inner.tcp_listeners.borrow().get(&port).cloned() else {
            continue;
        };
        tokio::task::spawn_local(callback(SocketFlow::new(
            stream,
            SocketAddrV4::new(*peer.ip(), peer.port()),
        )));
    }
}
