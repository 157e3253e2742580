//! V1 `TCPV4`.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

#[cfg(feature = "std")]
use crate::IoError;
use crate::{Device, ErrorKind, Flow};
use alloc::rc::Rc;
use async_trait::async_trait;
use core::net::{SocketAddr, SocketAddrV4};
use futures::future::LocalBoxFuture;
use thiserror::Error;

/// Errors of TCP (V1: `` [ `Unknown of string | `Timeout | `Refused ] ``).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum TcpError {
    /// V1 `Unknown`: any other failure, described.
    #[error("{0}")]
    Unknown(String),
    /// V1 `Timeout`: no valid answer in time, to a connection attempt or, on an established
    /// connection, for longer than the stack's TCP timeout (the peer stopped answering).
    #[error("timed out: no answer from the peer in time")]
    Timeout,
    /// V1 `Refused`: the peer reset the connection attempt.
    #[error("Connection refused")]
    Refused,
    /// A write after this side closed the flow (V1 answered `` `Eof ``).
    #[error("flow is closed")]
    Closed,
    /// The peer reset an established connection.
    #[error("connection reset by peer")]
    Reset,
    /// The stack was disconnected.
    #[error("TCP is disconnected")]
    Disconnected,
    /// The operating system reported another error (the error is kept as `source()`).
    #[cfg(feature = "std")]
    #[error("TCP I/O failed: {0}")]
    Io(#[source] IoError),
}

impl TcpError {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            TcpError::Unknown(_) => ErrorKind::Other,
            TcpError::Timeout => ErrorKind::Timeout,
            TcpError::Refused => ErrorKind::Refused,
            TcpError::Closed => ErrorKind::Closed,
            TcpError::Reset => ErrorKind::Reset,
            TcpError::Disconnected => ErrorKind::Disconnected,
            #[cfg(feature = "std")]
            TcpError::Io(error) => error.kind(),
        }
    }
}

/// V1 `TCPV4.callback`: run once per accepted connection, each call as its own task.
pub type TcpCallback<F> = Rc<dyn Fn(F) -> LocalBoxFuture<'static, ()>>;

/// A TCP connection: a [`Flow`] with V1's extra operations.
#[async_trait(?Send)]
pub trait TcpFlow: Flow<Error = TcpError> {
    /// V1 `get_dest`: the remote address and port. V1's address is IPv4: on a flow of a
    /// dual stack ([`crate::StackV4V6`]) whose peer is IPv6 it is `0.0.0.0` (an
    /// IPv4-mapped peer gives its IPv4 address); [`TcpFlow::peer`] gives either family.
    fn get_dest(&self) -> SocketAddrV4;

    /// The remote address and port, of either family (Mirage 4's `dst`). A flow that can
    /// only be IPv4 need not implement it.
    fn peer(&self) -> SocketAddr {
        SocketAddr::V4(self.get_dest())
    }

    /// V1 `write_nodelay`: writes `buf` and resolves once it has been transmitted (not merely
    /// queued), bypassing any coalescing.
    async fn write_nodelay(&self, buf: &[u8]) -> Result<(), TcpError>;

    /// V1 `writev_nodelay`.
    async fn writev_nodelay(&self, bufs: &[&[u8]]) -> Result<(), TcpError> {
        self.write_nodelay(&bufs.concat()).await
    }

    /// Whether writes go out at once (`true`) or small ones wait to be coalesced while
    /// earlier data is unacknowledged (Nagle's algorithm, the default): `TCP_NODELAY`. A
    /// server that answers in several writes (an HTTP head, then its body) sets it, so the
    /// last short segment of an answer does not wait for the client's delayed ACK. Not in
    /// Mirage; a flow without such a choice ignores it (the default).
    fn set_nodelay(&self, nodelay: bool) -> Result<(), TcpError> {
        let _ = nodelay;
        Ok(())
    }
}

/// V1 `TCPV4`: opening connections (accepting is [`crate::StackV4::bind_tcpv4`] or
/// [`crate::StackV4::listen_tcpv4`]).
///
/// ```
/// use mirage_types::{Flow, Read, TcpError, Tcpv4};
/// use std::net::SocketAddrV4;
///
/// /// Sends a request and reads the whole answer.
/// async fn fetch<T: Tcpv4>(tcp: &T, server: SocketAddrV4) -> Result<Vec<u8>, TcpError> {
///     let flow = tcp.create_connection(server).await?;
///     flow.write(b"GET / HTTP/1.0\r\n\r\n").await?;
///     let mut answer = Vec::new();
///     while let Read::Data(bytes) = flow.read().await? {
///         answer.extend_from_slice(&bytes);
///     }
///     Ok(answer)
/// }
/// ```
#[async_trait(?Send)]
pub trait Tcpv4: Device {
    /// The connections this TCP opens and accepts (V1's `flow`).
    type Flow: TcpFlow + 'static;

    /// V1 `create_connection`: connects to `dst`. Fails with [`TcpError::Refused`] on a
    /// reset and [`TcpError::Timeout`] when nothing answers.
    async fn create_connection(&self, dst: SocketAddrV4) -> Result<Self::Flow, TcpError>;
}
