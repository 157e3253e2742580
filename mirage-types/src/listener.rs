//! The pull form of listening: a bound TCP port that accepts, a bound UDP port that receives.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

use crate::{TcpError, TcpFlow, UdpDatagram, UdpError};
use async_trait::async_trait;
use core::net::SocketAddrV4;

/// A bound, listening TCP port ([`crate::StackV4::bind_tcpv4`]).
///
/// Connections complete their handshake from the moment the port is bound and wait, in a
/// bounded backlog, until [`TcpListener::accept`] takes them. Dropping the listener closes the
/// port and refuses whatever waits.
#[async_trait(?Send)]
pub trait TcpListener {
    /// The connections it accepts.
    type Flow: TcpFlow + 'static;

    /// The next connection. Fails with [`TcpError::Disconnected`] once the stack is
    /// disconnected.
    ///
    /// Cancel-safe: a connection leaves the backlog only in an `accept` that returns it, so
    /// dropping the future loses none.
    async fn accept(&self) -> Result<Self::Flow, TcpError>;

    /// The address and port it listens on (the port the stack chose when bound to port 0).
    fn local_addr(&self) -> SocketAddrV4;
}

/// A bound UDP port ([`crate::StackV4::bind_udpv4`]): datagrams to it wait in a bounded
/// queue (as in a kernel socket buffer: beyond it they are dropped) until
/// [`UdpListener::recv`] takes them. [`UdpListener::reply`] answers a datagram's sender from
/// this port. Dropping it closes the port.
///
/// ```
/// use mirage_types::{UdpError, UdpListener};
///
/// /// Answers every datagram with its own bytes, reversed.
/// async fn reverse<L: UdpListener>(port: &L) -> Result<(), UdpError> {
///     loop {
///         let datagram = port.recv().await?;
///         let reversed: Vec<u8> = datagram.data.iter().rev().copied().collect();
///         port.reply(&datagram, &reversed).await?;
///     }
/// }
/// ```
#[async_trait(?Send)]
pub trait UdpListener {
    /// The next datagram. Fails with [`UdpError::Disconnected`] once the stack is
    /// disconnected.
    ///
    /// Cancel-safe: a datagram is taken from the queue only by a `recv` that returns it, so
    /// dropping the future (a timeout, a `select!`) loses nothing.
    async fn recv(&self) -> Result<UdpDatagram, UdpError>;

    /// Sends one datagram to `to` from this port.
    async fn send_to(&self, to: SocketAddrV4, data: &[u8]) -> Result<(), UdpError>;

    /// Answers `datagram`'s sender from this port (the arguments cannot be swapped, as
    /// [`crate::Udpv4::write`]'s addresses and ports can).
    async fn reply(&self, datagram: &UdpDatagram, data: &[u8]) -> Result<(), UdpError> {
        self.send_to(datagram.sender(), data).await
    }

    /// The address and port it is bound to (the port the stack chose when bound to port 0).
    fn local_addr(&self) -> SocketAddrV4;

    /// Datagrams dropped so far because the queue was full (nobody received them fast
    /// enough).
    fn dropped(&self) -> u64;
}

#[async_trait(?Send)]
impl<L: TcpListener + ?Sized> TcpListener for Box<L> {
    type Flow = L::Flow;

    async fn accept(&self) -> Result<Self::Flow, TcpError> {
        (**self).accept().await
    }

    fn local_addr(&self) -> SocketAddrV4 {
        (**self).local_addr()
    }
}

#[async_trait(?Send)]
impl<L: UdpListener + ?Sized> UdpListener for Box<L> {
    async fn recv(&self) -> Result<UdpDatagram, UdpError> {
        (**self).recv().await
    }

    async fn send_to(&self, to: SocketAddrV4, data: &[u8]) -> Result<(), UdpError> {
        (**self).send_to(to, data).await
    }

    fn local_addr(&self) -> SocketAddrV4 {
        (**self).local_addr()
    }

    fn dropped(&self) -> u64 {
        (**self).dropped()
    }
}
