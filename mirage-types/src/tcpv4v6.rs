//! TCP of a dual stack: connections to and from IPv4 and IPv6 peers alike (Mirage 4's
//! `TCP` with `ipaddr = Ipaddr.t`).

#[allow(unused_imports)]
use crate::alloc_prelude::*;

use crate::{Device, TcpError, TcpFlow};
use async_trait::async_trait;
use core::net::SocketAddr;

/// Opening TCP connections to an IPv4 or IPv6 peer (accepting is
/// [`crate::StackV4V6::bind_tcp`]). The flows are [`TcpFlow`]s: [`TcpFlow::peer`] gives
/// their peer of either family.
///
/// ```
/// use mirage_types::{Flow, TcpError, TcpV4V6};
/// use std::net::SocketAddr;
///
/// /// Says hello to a server at an address of either family.
/// async fn greet<T: TcpV4V6>(tcp: &T, server: SocketAddr) -> Result<(), TcpError> {
///     let flow = tcp.create_connection(server).await?;
///     flow.write(b"hello\n").await?;
///     flow.close().await
/// }
/// ```
#[async_trait(?Send)]
pub trait TcpV4V6: Device {
    /// The connections this TCP opens and accepts.
    type Flow: TcpFlow + 'static;

    /// Connects to `dst`. Fails with [`TcpError::Refused`] on a reset, with
    /// [`TcpError::Timeout`] when nothing answers, and with [`TcpError::Unknown`], saying so,
    /// when the stack has no address of `dst`'s family.
    async fn create_connection(&self, dst: SocketAddr) -> Result<Self::Flow, TcpError>;
}

/// A bound, listening TCP port of a dual stack ([`crate::StackV4V6::bind_tcp`]): it accepts
/// connections over IPv4 and IPv6 alike. Otherwise as [`crate::TcpListener`]: a bounded
/// backlog from the moment the port is bound, cancel-safe `accept`, and dropping it closes
/// the port.
#[async_trait(?Send)]
pub trait TcpListenerV4V6 {
    /// The connections it accepts.
    type Flow: TcpFlow + 'static;

    /// The next connection, from a peer of either family. Fails with
    /// [`TcpError::Disconnected`] once the stack is disconnected. Cancel-safe.
    async fn accept(&self) -> Result<Self::Flow, TcpError>;

    /// The port it listens on, with an address of the stack (unspecified when it listens on
    /// every address).
    fn local_addr(&self) -> SocketAddr;
}

#[async_trait(?Send)]
impl<L: TcpListenerV4V6 + ?Sized> TcpListenerV4V6 for Box<L> {
    type Flow = L::Flow;

    async fn accept(&self) -> Result<Self::Flow, TcpError> {
        (**self).accept().await
    }

    fn local_addr(&self) -> SocketAddr {
        (**self).local_addr()
    }
}
