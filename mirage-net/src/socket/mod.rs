//! The socket stack: `StackV4` over the host's own TCP/IP, through tokio sockets (Mirage's
//! `--net socket`).

#[allow(unused_imports)]
use crate::alloc_prelude::*;

mod dual;
mod flow;
mod host_addresses;
mod ipv4;
mod listener;
mod tcp;
mod udp;

pub use dual::{SocketTcpListenerV4V6, SocketTcpV4V6, SocketUdpListenerV4V6, SocketUdpV4V6};

pub use flow::SocketFlow;
pub use ipv4::SocketIpv4;
pub use listener::{SocketTcpListener, SocketUdpListener};
pub use tcp::SocketTcp;
pub use udp::SocketUdp;

use mirage_types::{
    CallbackRegistry, Device, StackError, StackFlow, StackV4, TcpCallback, UdpCallback,
    async_trait, serve_callbacks,
};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::rc::Rc;
use std::time::Duration;

/// How a [`SocketStack`] binds and connects: [`StackConfig::new`] (the defaults) and its
/// setters, so that new fields can be added.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StackConfig {
    /// The addresses to listen on (Mirage's `--interfaces`); `0.0.0.0` means all. The first
    /// is also the source address of outgoing connections and datagrams.
    pub interfaces: Vec<Ipv4Addr>,
    /// The IPv6 addresses the dual stack ([`mirage_types::StackV4V6`]) listens on beside
    /// `interfaces`; `::` means all, and none leaves it IPv4 only. `None` (the default)
    /// follows `interfaces`: all IPv6 addresses when those are all IPv4 ones (`0.0.0.0`),
    /// none when they are named ones, so a stack kept to some IPv4 addresses is not opened
    /// to IPv6 unawares. With both `0.0.0.0` and `::` a port is one dual-stack socket
    /// (`IPV6_V6ONLY` off: IPv4 peers arrive as IPv4-mapped addresses, reported as IPv4);
    /// otherwise each IPv6 address is a socket of its own with `IPV6_V6ONLY` on, beside the
    /// IPv4 ones. V1's `StackV4` ignores it.
    pub ipv6_interfaces: Option<Vec<Ipv6Addr>>,
    /// How long `create_connection` waits before failing with `TcpError::Timeout`.
    pub connect_timeout: Duration,
    /// How long a flow's `read` waits for the peer to send anything before it fails with
    /// `TcpError::Timeout` (`None`: forever). Also the kernel's limit for unacknowledged
    /// data (`TCP_USER_TIMEOUT`), and keep-alives are sent after a quarter of it, so a peer
    /// that vanished is noticed on an idle connection too.
    pub idle_timeout: Option<Duration>,
    /// Connections accepted and still open at most; beyond it new connections are reset at
    /// once, never left waiting. The default leaves room under the process's descriptor limit.
    pub max_connections: usize,
}

impl StackConfig {
    /// The defaults: all interfaces, a ten-second connection timeout.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `interfaces`: the addresses to listen on (`0.0.0.0`: all).
    pub fn interfaces(mut self, interfaces: Vec<Ipv4Addr>) -> Self {
        self.interfaces = interfaces;
        self
    }

    /// Sets `ipv6_interfaces`: the IPv6 addresses the dual stack listens on (`::`: all;
    /// none: no IPv6).
    pub fn ipv6_interfaces(mut self, ipv6_interfaces: Vec<Ipv6Addr>) -> Self {
        self.ipv6_interfaces = Some(ipv6_interfaces);
        self
    }

    /// Sets `connect_timeout`: how long `create_connection` waits.
    pub fn connect_timeout(mut self, connect_timeout: Duration) -> Self {
        self.connect_timeout = connect_timeout;
        self
    }

    /// Sets `idle_timeout`: how long a read waits for a silent peer (`None`: forever).
    pub fn idle_timeout(mut self, idle_timeout: Option<Duration>) -> Self {
        self.idle_timeout = idle_timeout;
        self
    }

    /// Sets `max_connections`: accepted connections open at once, at most.
    pub fn max_connections(mut self, max_connections: usize) -> Self {
        self.max_connections = max_connections;
        self
    }
}

/// Room under the descriptor limit: the soft `RLIMIT_NOFILE` less 64 for the process's own
/// files and listening sockets (at least 16).
fn default_max_connections() -> usize {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes the struct it is given.
    let soft = if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0 {
        usize::try_from(limit.rlim_cur).unwrap_or(usize::MAX)
    } else {
        1024
    };
    soft.saturating_sub(64).max(16)
}

impl Default for StackConfig {
    /// All interfaces (IPv4 and IPv6), a ten-second connection timeout, a two-minute idle timeout (the
    /// direct stack's), and as many connections as the descriptor limit leaves room for.
    fn default() -> Self {
        StackConfig {
            interfaces: vec![Ipv4Addr::UNSPECIFIED],
            ipv6_interfaces: None,
            connect_timeout: Duration::from_secs(10),
            idle_timeout: Some(Duration::from_secs(120)),
            max_connections: default_max_connections(),
        }
    }
}

/// `StackV4` over the host's sockets.
///
/// The pull form binds at once: [`StackV4::bind_tcpv4`] gives a [`SocketTcpListener`] (the
/// kernel completes handshakes into its backlog from then on), [`StackV4::bind_udpv4`] a
/// [`SocketUdpListener`] (the kernel's socket buffer is its bounded queue). Port 0 takes a free
/// port. V1's callback form records callbacks with `listen_udpv4`/`listen_tcpv4` (a later
/// registration on a port replaces the earlier one at once), and [`StackV4::listen`] binds
/// those ports and runs the callbacks until [`Device::disconnect`]. Nothing is spawned: the
/// stack works under any single-threaded executor (`mirage_unix::run`, a plain
/// `#[tokio::main]`, a `LocalSet`).
///
/// ```no_run
/// use mirage_net::SocketStack;
/// use mirage_types::{Flow, Read, StackV4, TcpListener};
///
/// # async fn example() -> Result<(), Box<dyn std::error::Error>> {
/// let stack = SocketStack::new();
/// let listener = stack.bind_tcpv4(0).await?;
/// println!("echoing on {}", listener.local_addr());
/// let flow = listener.accept().await?;
/// while let Read::Data(bytes) = flow.read().await? {
///     flow.write(&bytes).await?;
/// }
/// # Ok(())
/// # }
/// ```
///
/// A handle: clones, and the `udpv4`/`tcpv4`/`ipv4` views, share one stack.
#[derive(Clone)]
pub struct SocketStack {
    inner: Rc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) config: StackConfig,
    pub(crate) callbacks: CallbackRegistry<SocketFlow>,
    /// Mirage 4's callbacks, for the dual face's `listen_v4v6`.
    pub(crate) callbacks_v4v6: CallbackRegistry<SocketFlow, mirage_types::UdpDatagramV4V6>,
    /// UDP sockets by local port and family (`true`: the socket for IPv6 peers): those
    /// `listen` bound, and those `write` bound for a given source port (port 0 is the
    /// shared ephemeral one).
    pub(crate) udp_sockets: RefCell<HashMap<(u16, bool), UdpSender>>,
    pub(crate) stopped: crate::signal::Signal,
    pub(crate) disconnected: Cell<bool>,
    /// Accepted connections still open (shared with each accepted flow, which counts
    /// itself out when dropped).
    pub(crate) open_connections: Rc<Cell<usize>>,
}

/// A UDP socket that datagrams leave from.
#[derive(Clone)]
pub(crate) struct UdpSender {
    pub(crate) socket: Rc<tokio::net::UdpSocket>,
    /// Whether it is an IPv6 socket (which reaches IPv4 peers by their IPv4-mapped
    /// addresses, when it is dual-stack).
    pub(crate) v6: bool,
}

impl UdpSender {
    /// Sends `data` to `to`, mapped to IPv6 if the socket is.
    pub(crate) async fn send_to(
        &self,
        data: &[u8],
        to: std::net::SocketAddr,
    ) -> std::io::Result<()> {
        let to = match to {
            std::net::SocketAddr::V4(v4) if self.v6 => {
                std::net::SocketAddr::new(v4.ip().to_ipv6_mapped().into(), v4.port())
            }
            other => other,
        };
        self.socket.send_to(data, to).await.map(|_| ())
    }
}

/// One address a port is bound on, and for an IPv6 one whether it takes IPv4 peers too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BindAddress {
    pub(crate) ip: IpAddr,
    pub(crate) dual: bool,
}

impl Inner {
    /// The addresses a port is bound on: `interfaces` for V1's stack; for the dual stack
    /// one dual-stack socket when both families are bound on all addresses, else
    /// `interfaces` and `ipv6_interfaces` side by side.
    pub(crate) fn bind_addresses(&self, with_ipv6: bool) -> Vec<BindAddress> {
        let v4 = self.config.interfaces.iter().map(|&ip| BindAddress {
            ip: ip.into(),
            dual: false,
        });
        if !with_ipv6 {
            return v4.collect();
        }
        let all_v4 = self.config.interfaces == [Ipv4Addr::UNSPECIFIED];
        let ipv6 = self.ipv6_interfaces();
        if all_v4 && ipv6.contains(&Ipv6Addr::UNSPECIFIED) {
            return vec![BindAddress {
                ip: Ipv6Addr::UNSPECIFIED.into(),
                dual: true,
            }];
        }
        let v6 = ipv6.into_iter().map(|ip| BindAddress {
            ip: ip.into(),
            dual: false,
        });
        v4.chain(v6).collect()
    }

    /// `ipv6_interfaces` as given or followed from `interfaces`, without repeats, `::`
    /// taking in any other.
    pub(crate) fn ipv6_interfaces(&self) -> Vec<Ipv6Addr> {
        let mut seen = std::collections::HashSet::new();
        let mut list: Vec<Ipv6Addr> = match &self.config.ipv6_interfaces {
            Some(list) => list.clone(),
            None if self.config.interfaces == [Ipv4Addr::UNSPECIFIED] => {
                vec![Ipv6Addr::UNSPECIFIED]
            }
            None => Vec::new(),
        };
        list.retain(|address| seen.insert(*address));
        if seen.contains(&Ipv6Addr::UNSPECIFIED) {
            list = vec![Ipv6Addr::UNSPECIFIED];
        }
        list
    }

    /// The source address of outgoing IPv6 connections and datagrams: the first of
    /// `ipv6_interfaces` (unspecified: the kernel picks), `None` without IPv6.
    pub(crate) fn source_address_v6(&self) -> Option<Ipv6Addr> {
        self.ipv6_interfaces().first().copied()
    }

    pub(crate) fn source_address(&self) -> Ipv4Addr {
        self.config
            .interfaces
            .first()
            .copied()
            .unwrap_or(Ipv4Addr::UNSPECIFIED)
    }

    /// Resolves once the stack is disconnected.
    pub(crate) async fn disconnected(&self) {
        self.stopped.until(|| self.disconnected.get()).await
    }
}

impl SocketStack {
    /// A stack on all interfaces (`--interfaces 0.0.0.0`).
    pub fn new() -> Self {
        Self::with_config(StackConfig::default())
    }

    /// A stack with `config`. An empty interface list means all interfaces.
    /// Interfaces named twice are bound once, and `0.0.0.0` (all of them) takes in any other.
    pub fn with_config(mut config: StackConfig) -> Self {
        let mut seen = std::collections::HashSet::new();
        config.interfaces.retain(|address| seen.insert(*address));
        if config.interfaces.is_empty() || seen.contains(&Ipv4Addr::UNSPECIFIED) {
            config.interfaces = vec![Ipv4Addr::UNSPECIFIED];
        }
        SocketStack {
            inner: Rc::new(Inner {
                config,
                callbacks: CallbackRegistry::default(),
                callbacks_v4v6: CallbackRegistry::default(),
                udp_sockets: RefCell::default(),
                stopped: Default::default(),
                open_connections: Rc::default(),
                disconnected: Cell::new(false),
            }),
        }
    }

    /// Datagrams to UDP `port` that its `listen_udpv4` callbacks could not keep up with,
    /// as the kernel counted them (`None` until `listen` has bound the port).
    pub fn udp_dropped(&self, port: u16) -> Option<u64> {
        self.inner.callbacks.udp_dropped(port)
    }

    /// The configuration the stack was made with.
    pub fn config(&self) -> &StackConfig {
        &self.inner.config
    }
}

impl Default for SocketStack {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for SocketStack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocketStack")
            .field("config", &self.inner.config)
            .field("udp_callback_ports", &self.inner.callbacks.udp_ports())
            .field("tcp_callback_ports", &self.inner.callbacks.tcp_ports())
            .finish()
    }
}

#[async_trait(?Send)]
impl Device for SocketStack {
    /// Stops `listen` (closing every listening socket) and makes later operations fail with
    /// their `Disconnected` errors. Flows already open stay usable until closed.
    async fn disconnect(&self) {
        self.inner.disconnected.set(true);
        self.inner.udp_sockets.borrow_mut().clear();
        self.inner.stopped.notify();
    }
}

#[async_trait(?Send)]
impl StackV4 for SocketStack {
    type Udp = SocketUdp;
    type Tcp = SocketTcp;
    type Ip = SocketIpv4;
    type TcpListener = SocketTcpListener;
    type UdpListener = SocketUdpListener;

    fn udpv4(&self) -> SocketUdp {
        SocketUdp::new(self.inner.clone())
    }

    fn tcpv4(&self) -> SocketTcp {
        SocketTcp::new(self.inner.clone())
    }

    fn ipv4(&self) -> SocketIpv4 {
        SocketIpv4::new(self.inner.clone())
    }

    /// Binds `port` on every interface (port 0: the port the kernel picks on the first).
    async fn bind_tcpv4(&self, port: u16) -> Result<SocketTcpListener, StackError> {
        listener::bind_tcp(&self.inner, port, false)
    }

    /// Binds `port` on every interface; the kernel's socket buffer is the queue.
    async fn bind_udpv4(&self, port: u16) -> Result<SocketUdpListener, StackError> {
        listener::bind_udp(&self.inner, port, false)
    }

    fn listen_udpv4_with(&self, port: u16, callback: UdpCallback) {
        self.inner.callbacks.set_udp(port, callback);
    }

    fn listen_tcpv4_with(&self, port: u16, callback: TcpCallback<StackFlow<Self>>) {
        self.inner.callbacks.set_tcp(port, callback);
    }

    async fn listen(&self) -> Result<(), StackError> {
        serve_callbacks(self, &self.inner.callbacks, self.inner.disconnected()).await
    }
}
