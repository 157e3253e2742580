//! Mirage 4's `Stack.V4V6`: one stack for IPv4 and IPv6.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

use crate::{Device, IpCidr, StackError, TcpListenerV4V6, TcpV4V6, UdpListenerV4V6, UdpV4V6};
use async_trait::async_trait;

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
/// Serving is the pull form ([`StackV4V6::bind_tcp`], [`StackV4V6::bind_udp`]): accept
/// in a loop, one task per connection.
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
}
