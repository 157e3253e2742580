//! V1 `STACKV4`: a whole TCP/IPv4 stack.

use crate::{Device, Ipv4, TcpCallback, Tcpv4, UdpCallback, UdpDatagram, Udpv4};
use async_trait::async_trait;
use std::future::Future;
use std::rc::Rc;
use thiserror::Error;

/// Errors of a stack (V1: `` [ `Unknown of string ] ``).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum StackError {
    /// V1 `Unknown`: any failure, described.
    #[error("stack error: {0}")]
    Unknown(String),
    /// A listening port could not be bound.
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
}

/// The flow type of a stack's TCP.
pub type StackFlow<S> = <<S as StackV4>::Tcp as Tcpv4>::Flow;

/// V1 `STACKV4`: UDP, TCP and IPv4 views of one stack, and the listeners that serve them.
///
/// The views are cheap handles onto the same stack (V1's `udpv4`, `tcpv4`, `ipv4`).
#[async_trait(?Send)]
pub trait StackV4: Device {
    /// V1 `UDPV4`.
    type Udp: Udpv4 + Clone + 'static;
    /// V1 `TCPV4`.
    type Tcp: Tcpv4 + Clone + 'static;
    /// V1 `IPV4`.
    type Ip: Ipv4 + Clone + 'static;

    /// V1 `udpv4`.
    fn udpv4(&self) -> Self::Udp;
    /// V1 `tcpv4`.
    fn tcpv4(&self) -> Self::Tcp;
    /// V1 `ipv4`.
    fn ipv4(&self) -> Self::Ip;

    /// V1 `listen_udpv4` with an already boxed callback: registers `callback` for datagrams
    /// to `port`, replacing any earlier registration on that port. Returns at once.
    fn listen_udpv4_with(&self, port: u16, callback: UdpCallback);

    /// V1 `listen_tcpv4` with an already boxed callback: registers `callback` for
    /// connections to `port`, replacing any earlier registration on that port.
    fn listen_tcpv4_with(&self, port: u16, callback: TcpCallback<StackFlow<Self>>);

    /// V1 `listen`: serves the registered listeners until the stack is disconnected.
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
