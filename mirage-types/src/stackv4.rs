//! V1 `STACKV4`: a whole TCP/IPv4 stack.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

#[cfg(feature = "std")]
use crate::IoError;
use crate::{
    Device, ErrorKind, IpError, Ipv4, TcpCallback, TcpListener, Tcpv4, UdpCallback, UdpDatagram,
    UdpListener, Udpv4,
};
use alloc::rc::Rc;
use async_trait::async_trait;
use core::future::Future;
use thiserror::Error;

/// Errors of a stack (V1: `` [ `Unknown of string ] ``).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum StackError {
    /// V1 `Unknown`: any failure, described.
    #[error("stack error: {0}")]
    Unknown(String),
    /// A listening port could not be bound (in use on this stack, or refused).
    #[error("cannot listen on {protocol} port {port}: {reason}")]
    Bind {
        /// `"UDP"` or `"TCP"`.
        protocol: &'static str,
        /// The port.
        port: u16,
        /// Why.
        reason: String,
    },
    /// The stack was disconnected.
    #[error("stack is disconnected")]
    Disconnected,
    /// The IP configuration was refused (an address no host can have, ...).
    #[error("stack configuration refused: {0}")]
    Ip(#[from] IpError),
    /// The operating system reported an error (binding a port, ...), kept as `source()`.
    #[cfg(feature = "std")]
    #[error("stack I/O failed: {0}")]
    Io(#[source] IoError),
}

impl StackError {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            StackError::Unknown(_) => ErrorKind::Other,
            StackError::Bind { .. } => ErrorKind::AddressInUse,
            StackError::Disconnected => ErrorKind::Disconnected,
            StackError::Ip(error) => error.kind(),
            #[cfg(feature = "std")]
            StackError::Io(error) => error.kind(),
        }
    }
}

/// The flow type of a stack's TCP.
pub type StackFlow<S> = <<S as StackV4>::Tcp as Tcpv4>::Flow;

/// V1 `STACKV4`: UDP, TCP and IPv4 views of one stack, and the listeners that serve them.
///
/// The views are cheap handles onto the same stack (V1's `udpv4`, `tcpv4`, `ipv4`). Ports are
/// served two ways: the pull form ([`StackV4::bind_tcpv4`], [`StackV4::bind_udpv4`]) and V1's
/// callbacks ([`StackV4::listen_tcpv4`], [`StackV4::listen_udpv4`], run while
/// [`StackV4::listen`] is awaited).
///
/// ```
/// use mirage_types::{Flow, StackV4, Udpv4};
///
/// /// The tutorial's stackv4, on any stack: answer UDP on 53, greet TCP on 8080.
/// async fn serve<S: StackV4>(stack: &S) -> Result<(), mirage_types::StackError> {
///     let udp = stack.udpv4();
///     stack.listen_udpv4(53, move |datagram| {
///         let udp = udp.clone();
///         async move {
///             let _ = udp.write(Some(53), datagram.src, datagram.src_port, &datagram.data).await;
///         }
///     });
///     stack.listen_tcpv4(8080, |flow| async move {
///         let _ = flow.write(b"hello\n").await;
///     });
///     stack.listen().await
/// }
/// ```
#[async_trait(?Send)]
pub trait StackV4: Device {
    /// V1 `UDPV4`.
    type Udp: Udpv4 + Clone + 'static;
    /// V1 `TCPV4`.
    type Tcp: Tcpv4 + Clone + 'static;
    /// V1 `IPV4`.
    type Ip: Ipv4 + Clone + 'static;
    /// A bound TCP port ([`StackV4::bind_tcpv4`]).
    type TcpListener: TcpListener<Flow = StackFlow<Self>> + 'static;
    /// A bound UDP port ([`StackV4::bind_udpv4`]).
    type UdpListener: UdpListener + 'static;

    /// V1 `udpv4`.
    fn udpv4(&self) -> Self::Udp;
    /// V1 `tcpv4`.
    fn tcpv4(&self) -> Self::Tcp;
    /// V1 `ipv4`.
    fn ipv4(&self) -> Self::Ip;

    /// Binds TCP `port` (0: any free port, see [`TcpListener::local_addr`]) and returns a
    /// listener. Connections are accepted into its backlog from now on. Fails with
    /// [`StackError::Bind`] or [`StackError::Io`] if the port is taken.
    async fn bind_tcpv4(&self, port: u16) -> Result<Self::TcpListener, StackError>;

    /// Binds UDP `port` (0: any free port) and returns a socket that receives its
    /// datagrams into a bounded queue from now on.
    async fn bind_udpv4(&self, port: u16) -> Result<Self::UdpListener, StackError>;

    /// V1 `listen_udpv4` with an already boxed callback: registers `callback` for datagrams
    /// to `port`, replacing any earlier registration on that port. Returns at once.
    fn listen_udpv4_with(&self, port: u16, callback: UdpCallback);

    /// V1 `listen_tcpv4` with an already boxed callback: registers `callback` for
    /// connections to `port`, replacing any earlier registration on that port.
    fn listen_tcpv4_with(&self, port: u16, callback: TcpCallback<StackFlow<Self>>);

    /// V1 `listen`: binds the ports registered with callbacks and runs the callbacks, one
    /// invocation per datagram or connection, until the stack is disconnected. Callbacks run
    /// only while `listen` is awaited (on every stack; the pull form,
    /// [`StackV4::bind_tcpv4`], needs no `listen`). A port that cannot be bound ends it with
    /// the error.
    async fn listen(&self) -> Result<(), StackError>;

    /// V1 `listen_udpv4 ~port callback`, taking an async closure.
    fn listen_udpv4<F, Fut>(&self, port: u16, callback: F)
    where
        Self: Sized,
        F: Fn(UdpDatagram) -> Fut + 'static,
        Fut: Future<Output = ()> + 'static,
    {
        self.listen_udpv4_with(port, Rc::new(move |datagram| Box::pin(callback(datagram))));
    }

    /// V1 `listen_tcpv4 ~port callback`, taking an async closure.
    fn listen_tcpv4<F, Fut>(&self, port: u16, callback: F)
    where
        Self: Sized,
        F: Fn(StackFlow<Self>) -> Fut + 'static,
        Fut: Future<Output = ()> + 'static,
    {
        self.listen_tcpv4_with(port, Rc::new(move |flow| Box::pin(callback(flow))));
    }
}
