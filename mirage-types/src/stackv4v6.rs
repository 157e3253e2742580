//! Mirage 4's `Stack.V4V6`: one stack for IPv4 and IPv6.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

use crate::{
    Device, IpCidr, StackError, TcpCallback, TcpListenerV4V6, TcpV4V6, UdpCallbackV4V6,
    UdpDatagramV4V6, UdpListenerV4V6, UdpV4V6,
};
use alloc::rc::Rc;
use async_trait::async_trait;
use core::future::Future;

/// The flow type of a dual stack's TCP.
pub type StackFlowV4V6<S> = <<S as StackV4V6>::Tcp as TcpV4V6>::Flow;

/// Mirage 4's `Stack.V4V6`: TCP and UDP over IPv4 and IPv6 behind one stack, with addresses
/// as `IpAddr`/`SocketAddr`.
///
/// It stands beside V1's [`crate::StackV4`], which stays as V1 has it; a stack may be
/// both. A port bound here serves both families: an IPv4 client and an IPv6 client reach
/// the same listener. A stack without IPv6 (one made IPv4-only, or
/// [`crate::Ipv4Only`] over any `StackV4`) is still a `StackV4V6`: it serves IPv4, and
/// connections and datagrams to IPv6 peers fail with an error that says so.
///
/// Ports are served two ways, as on V1's stack: the pull form ([`StackV4V6::bind_tcp`],
/// [`StackV4V6::bind_udp`]) and Mirage 4's callbacks ([`StackV4V6::listen_tcp`],
/// [`StackV4V6::listen_udp`], run while [`StackV4V6::listen_v4v6`] is awaited: Mirage 4's
/// `listen`, named apart from V1's so that a stack can be both).
///
/// ```
/// use mirage_types::{Flow, StackError, StackV4V6, TcpListenerV4V6, TcpFlow};
///
/// /// Greets each client, over IPv4 or IPv6, with the address it came from.
/// async fn greet<S: StackV4V6>(stack: &S) -> Result<(), StackError> {
///     let listener = stack.bind_tcp(8080).await?;
///     while let Ok(flow) = listener.accept().await {
///         let _ = flow.write(format!("hello {}\n", flow.peer()).as_bytes()).await;
///     }
///     Ok(())
/// }
/// ```
#[async_trait(?Send)]
pub trait StackV4V6: Device {
    /// Mirage 4's `UDP`.
    type Udp: UdpV4V6 + Clone + 'static;
    /// Mirage 4's `TCP`.
    type Tcp: TcpV4V6 + Clone + 'static;
    /// A bound TCP port ([`StackV4V6::bind_tcp`]).
    type TcpListener: TcpListenerV4V6<Flow = StackFlowV4V6<Self>> + 'static;
    /// A bound UDP port ([`StackV4V6::bind_udp`]).
    type UdpListener: UdpListenerV4V6 + 'static;

    /// Mirage 4's `udp`: a handle for sending datagrams.
    fn udp(&self) -> Self::Udp;
    /// Mirage 4's `tcp`: a handle for opening connections.
    fn tcp(&self) -> Self::Tcp;

    /// Mirage 4's `configured_ips`: the stack's addresses with their prefixes, IPv4 and
    /// IPv6 (link-local ones included), as they are now (DHCP and router advertisements
    /// change them). Empty on a stack bound to every address of its host.
    fn configured_ips(&self) -> Vec<IpCidr>;

    /// Binds TCP `port` (0: any free port) for both families and returns a listener.
    /// Connections are accepted into its backlog from now on. Fails with
    /// [`StackError::Bind`] or [`StackError::Io`] if the port is taken.
    async fn bind_tcp(&self, port: u16) -> Result<Self::TcpListener, StackError>;

    /// Binds UDP `port` (0: any free port) for both families and returns a socket that
    /// receives its datagrams into a bounded queue from now on.
    async fn bind_udp(&self, port: u16) -> Result<Self::UdpListener, StackError>;

    /// Mirage 4's `listen_udp` with an already boxed callback: registers `callback` for
    /// datagrams of either family to `port`, replacing any earlier registration on that
    /// port. Returns at once.
    fn listen_udp_with(&self, port: u16, callback: UdpCallbackV4V6);

    /// Mirage 4's `listen_tcp` with an already boxed callback: registers `callback` for
    /// connections of either family to `port`, replacing any earlier registration.
    fn listen_tcp_with(&self, port: u16, callback: TcpCallback<StackFlowV4V6<Self>>);

    /// Mirage 4's `listen`: binds the ports registered with callbacks for both families and
    /// runs the callbacks, one invocation per datagram or connection, until the stack is
    /// disconnected. A port that cannot be bound ends it with the error.
    async fn listen_v4v6(&self) -> Result<(), StackError>;

    /// Mirage 4's `listen_udp ~port callback`, taking an async closure.
    fn listen_udp<F, Fut>(&self, port: u16, callback: F)
    where
        Self: Sized,
        F: Fn(UdpDatagramV4V6) -> Fut + 'static,
        Fut: Future<Output = ()> + 'static,
    {
        self.listen_udp_with(port, Rc::new(move |datagram| Box::pin(callback(datagram))));
    }

    /// Mirage 4's `listen_tcp ~port callback`, taking an async closure.
    fn listen_tcp<F, Fut>(&self, port: u16, callback: F)
    where
        Self: Sized,
        F: Fn(StackFlowV4V6<Self>) -> Fut + 'static,
        Fut: Future<Output = ()> + 'static,
    {
        self.listen_tcp_with(port, Rc::new(move |flow| Box::pin(callback(flow))));
    }
}
