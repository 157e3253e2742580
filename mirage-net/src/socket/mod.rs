//! The socket stack: `StackV4` over the host's own TCP/IP, through tokio sockets (Mirage's
//! `--net socket`).

mod flow;
mod ipv4;
mod serve;
mod tcp;
mod udp;

pub use flow::SocketFlow;
pub use ipv4::SocketIpv4;
pub use tcp::SocketTcp;
pub use udp::SocketUdp;

use mirage_types::{Device, StackError, StackFlow, StackV4, TcpCallback, UdpCallback, async_trait};
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::net::Ipv4Addr;
use std::rc::Rc;
use std::time::Duration;
use tokio::sync::Notify;

/// How a [`SocketStack`] binds and connects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackConfig {
    /// The addresses to listen on (Mirage's `--interfaces`); `0.0.0.0` means all. The first
    /// is also the source address of outgoing connections and datagrams.
    pub interfaces: Vec<Ipv4Addr>,
    /// How long `create_connection` waits before failing with `TcpError::Timeout`.
    pub connect_timeout: Duration,
}

impl Default for StackConfig {
    /// All interfaces, a ten-second connection timeout.
    fn default() -> Self {
        StackConfig {
            interfaces: vec![Ipv4Addr::UNSPECIFIED],
            connect_timeout: Duration::from_secs(10),
        }
    }
}

/// `StackV4` over the host's sockets.
///
/// `listen_udpv4`/`listen_tcpv4` register callbacks (a later registration on a port replaces
/// the earlier one at once); [`StackV4::listen`] binds every registered port on every
/// interface, picks up later registrations, and serves until [`Device::disconnect`]. Each
/// datagram and each accepted connection is handed to its callback as a task of its own
/// (`spawn_local`), so `listen` must run inside a `LocalSet`, as `mirage_unix::run`
/// provides.
///
/// A handle: clones, and the `udpv4`/`tcpv4`/`ipv4` views, share one stack.
#[derive(Clone)]
pub struct SocketStack {
    inner: Rc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) config: StackConfig,
    pub(crate) udp_listeners: RefCell<BTreeMap<u16, UdpCallback>>,
    pub(crate) tcp_listeners: RefCell<BTreeMap<u16, TcpCallback<SocketFlow>>>,
    /// UDP sockets by local port: those `listen` bound, and those `write` bound for a given
    /// source port (port 0 is the shared ephemeral one).
    pub(crate) udp_sockets: RefCell<HashMap<u16, Rc<tokio::net::UdpSocket>>>,
    pub(crate) changed: Notify,
    pub(crate) disconnected: Cell<bool>,
}

impl Inner {
    pub(crate) fn source_address(&self) -> Ipv4Addr {
        self.config
            .interfaces
            .first()
            .copied()
            .unwrap_or(Ipv4Addr::UNSPECIFIED)
    }
}

impl SocketStack {
    /// A stack on all interfaces (`--interfaces 0.0.0.0`).
    pub fn new() -> Self {
        Self::with_config(StackConfig::default())
    }

    /// A stack with `config`. An empty interface list means all interfaces.
    pub fn with_config(mut config: StackConfig) -> Self {
        if config.interfaces.is_empty() {
            config.interfaces.push(Ipv4Addr::UNSPECIFIED);
        }
        SocketStack {
            inner: Rc::new(Inner {
                config,
                udp_listeners: RefCell::default(),
                tcp_listeners: RefCell::default(),
                udp_sockets: RefCell::default(),
                changed: Notify::new(),
                disconnected: Cell::new(false),
            }),
        }
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
            .field(
                "udp_ports",
                &self.inner.udp_listeners.borrow().keys().collect::<Vec<_>>(),
            )
            .field(
                "tcp_ports",
                &self.inner.tcp_listeners.borrow().keys().collect::<Vec<_>>(),
            )
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
        self.inner.changed.notify_one();
    }
}

#[async_trait(?Send)]
impl StackV4 for SocketStack {
    type Udp = SocketUdp;
    type Tcp = SocketTcp;
    type Ip = SocketIpv4;

    fn udpv4(&self) -> SocketUdp {
        SocketUdp::new(self.inner.clone())
    }

    fn tcpv4(&self) -> SocketTcp {
        SocketTcp::new(self.inner.clone())
    }

    fn ipv4(&self) -> SocketIpv4 {
        SocketIpv4::new(self.inner.clone())
    }

    fn listen_udpv4_with(&self, port: u16, callback: UdpCallback) {
        self.inner.udp_listeners.borrow_mut().insert(port, callback);
        self.inner.changed.notify_one();
    }

    fn listen_tcpv4_with(&self, port: u16, callback: TcpCallback<StackFlow<Self>>) {
        self.inner.tcp_listeners.borrow_mut().insert(port, callback);
        self.inner.changed.notify_one();
    }

    async fn listen(&self) -> Result<(), StackError> {
        serve::serve(&self.inner).await
    }
}
