//! The direct stack: smoltcp's TCP/IP over any [`Network`] (Mirage's `--net direct`).

mod dad;
mod device;
mod driver;
mod dual;
mod flow;
mod frame_pool;
mod link_layer;
mod listener;
mod neighbours;
mod nudge;
mod ping;
mod reassembly;
mod resets;
mod state;
mod tcp_memory;
mod views;

pub use dual::{DirectTcpListenerV4V6, DirectTcpV4V6, DirectUdpListenerV4V6, DirectUdpV4V6};
pub use flow::DirectFlow;
pub use link_layer::{DirectArp, DirectEthif};
pub use listener::{DirectTcpListener, DirectUdpListener};
pub use ping::{DirectPing, MAX_PING_PAYLOAD};
pub use views::{DirectIcmpv4, DirectIpv4, DirectTcp, DirectUdp};

#[allow(unused_imports)]
use crate::alloc_prelude::*;
use crate::platform::StackPlatform;
use crate::signal::Signal;
use alloc::rc::Rc;
use core::cell::{Cell, RefCell};
use core::pin::pin;
use core::time::Duration;
use futures::future::{LocalBoxFuture, select};
use mirage_types::{
    CallbackRegistry, Device, IpError, Ipv4Config, Ipv6Config, MacAddr, Network, StackError,
    StackFlow, StackV4, TcpCallback, UdpCallback, async_trait, serve_callbacks,
};
use state::{Shared, State};

/// How the direct stack gets its address.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Addressing {
    /// A fixed address, netmask and gateways (V1's `` `IPv4 ``; the default is Mirage's
    /// 10.0.0.2 / 255.255.255.0 / 10.0.0.1).
    Static(Ipv4Config),
    /// A lease from a DHCP server, renewed as it runs out (V1's `` `DHCP ``).
    Dhcp {
        /// How long `connect` waits for the first lease.
        timeout: Duration,
    },
}

impl Addressing {
    /// A lease from a DHCP server, waiting at most `timeout` for the first.
    pub fn dhcp(timeout: Duration) -> Self {
        Addressing::Dhcp { timeout }
    }
}

impl Default for Addressing {
    fn default() -> Self {
        Addressing::Static(Ipv4Config::default())
    }
}

/// `StackV4` implemented by smoltcp over any [`Network`]: a tap device, a Xen netfront, or an
/// in-memory link.
///
/// [`DirectStack::connect`] starts the stack's driver as a local task on tokio
/// ([`DirectStack::on_platform`] hands it over, for any executor and platform): it wakes on received
/// frames, on smoltcp's own timers and on requests from the application, and sleeps
/// otherwise (an idle stack uses no CPU). ICMP echo requests are answered. Listening TCP
/// ports keep a pool of listening sockets ready, so that many simultaneous connections all
/// succeed although smoltcp sockets have no backlog.
///
/// Two stacks over an in-memory Ethernet link, one serving and one connecting:
///
/// ```
/// use mirage_net::{Addressing, DirectStack, MemLink};
/// use mirage_types::{Flow, Ipv4Config, Read, StackV4, TcpListener, Tcpv4};
/// use core::net::Ipv4Addr;
///
/// let address = |last| {
///     Addressing::Static(Ipv4Config::default().address(Ipv4Addr::new(10, 0, 0, last)))
/// };
/// mirage_unix::run(async {
///     let (a, b) = MemLink::pair();
///     let server = DirectStack::connect(a, address(2)).await.unwrap();
///     let client = DirectStack::connect(b, address(3)).await.unwrap();
///     let listener = server.bind_tcpv4(80).await.unwrap();
///     let tcp = client.tcpv4();
///     let (accepted, connected) =
///         futures::join!(listener.accept(), tcp.create_connection(listener.local_addr()));
///     connected.unwrap().write(b"over smoltcp").await.unwrap();
///     let read = accepted.unwrap().read().await.unwrap();
///     assert_eq!(read, Read::Data("over smoltcp".into()));
/// });
/// ```
pub struct DirectStack<N: Network + 'static> {
    shared: Rc<Shared>,
    net: Rc<N>,
}

impl<N: Network + 'static> Clone for DirectStack<N> {
    fn clone(&self) -> Self {
        DirectStack {
            shared: self.shared.clone(),
            net: self.net.clone(),
        }
    }
}

impl<N: Network + 'static> DirectStack<N> {
    /// Starts a stack on `net` on tokio, its driver spawned as a local task: this needs a
    /// tokio `LocalSet`, as `mirage_unix::run` provides (tokio panics outside one; elsewhere
    /// use [`DirectStack::with_driver`] or [`DirectStack::on_platform`]). With DHCP, waits
    /// for the first lease and fails with a clear error if none comes.
    #[cfg(feature = "std")]
    pub async fn connect(net: N, addressing: Addressing) -> Result<Self, StackError> {
        let (stack, driver) = Self::with_driver(net, addressing)?;
        tokio::task::spawn_local(driver);
        stack.configured().await?;
        Ok(stack)
    }

    /// A stack on `net` on tokio ([`StackPlatform::tokio`]) and the future that drives it,
    /// for executors other than a tokio `LocalSet`: see [`DirectStack::on_platform`].
    #[cfg(feature = "std")]
    pub fn with_driver(
        net: N,
        addressing: Addressing,
    ) -> Result<(Self, LocalBoxFuture<'static, ()>), StackError> {
        Self::on_platform(net, addressing, StackPlatform::tokio())
    }

    /// A stack on `net` whose timers, clock and random numbers come from `platform`, and
    /// the future that drives it: run the driver beside the application (`join`, `select`,
    /// ...). This is how a unikernel starts a stack: no runtime is needed beyond an executor
    /// that polls both. Nothing happens on the network until the driver runs; it returns
    /// once the stack is disconnected. A static address no host can have (multicast,
    /// broadcast, ...) or a netmask that is not contiguous is refused here; with DHCP, wait
    /// for the lease with [`DirectStack::configured`].
    pub fn on_platform(
        net: N,
        addressing: Addressing,
        platform: StackPlatform,
    ) -> Result<(Self, LocalBoxFuture<'static, ()>), StackError> {
        let mac = net.mac();
        let lease_timeout = match &addressing {
            Addressing::Dhcp { timeout } => Some(*timeout),
            Addressing::Static(_) => None,
        };
        let state = State::new(mac, net.mtu(), &addressing, platform.clone())?;
        let shared = Rc::new(Shared {
            state: RefCell::new(state),
            wake: nudge::Nudge::default(),
            configured: Signal::default(),
            addressed: Signal::default(),
            stopped: Signal::default(),
            disconnected: Cell::new(false),
            failure: RefCell::new(None),
            connect_timeout: Duration::from_secs(10),
            lease_timeout,
            neighbours: RefCell::default(),
            neighbour_seen: Signal::default(),
            dropped: RefCell::new(Vec::new()),
            callbacks: CallbackRegistry::default(),
            callbacks_v4v6: CallbackRegistry::default(),
            platform,
        });
        let net = Rc::new(net);
        let stack = DirectStack { shared, net };
        let (shared, net) = (stack.shared.clone(), stack.net.clone());
        let driver = Box::pin(async move {
            let result = driver::run(&shared, &*net).await;
            if let Err(error) = result {
                *shared.failure.borrow_mut() = Some(error);
            }
            shared.disconnected.set(true);
            shared.stopped.notify();
        });
        Ok((stack, driver))
    }

    /// The address in force: with a static address at once; with DHCP once the first lease
    /// comes, waiting at most the timeout [`Addressing::Dhcp`] names (the stack's driver must
    /// be running). If none comes the stack is disconnected and the error says so.
    pub async fn configured(&self) -> Result<Ipv4Config, StackError> {
        let leased = || self.shared.state.borrow().config.clone();
        let limit = self.shared.lease_timeout.unwrap_or(Duration::ZERO);
        let waited = self
            .shared
            .platform
            .timeout(limit, self.shared.configured.until(|| leased().is_some()))
            .await;
        match (waited, leased()) {
            (_, Some(config)) => Ok(config),
            (_, None) => {
                self.disconnect().await;
                Err(StackError::Unknown("No DHCP offer received".into()))
            }
        }
    }

    /// A stack with the defaults on tokio: static 10.0.0.2/24, gateway 10.0.0.1.
    #[cfg(feature = "std")]
    pub async fn with_defaults(net: N) -> Result<Self, StackError> {
        Self::connect(net, Addressing::default()).await
    }

    /// Turns IPv6 on beside IPv4 (or changes it): the link-local address made from the MAC
    /// address, `config`'s fixed addresses and default router, and with `config.slaac`
    /// addresses and a default router from router advertisements (the stack sends router
    /// solicitations). Ports bound with [`mirage_types::StackV4V6`] then serve both families;
    /// ICMPv6 echo requests are answered. A configuration no host can have is refused, and
    /// so are more fixed addresses than the stack holds (2 with SLAAC, 6 without).
    ///
    /// Each new address (link-local, fixed, or from SLAAC) is first checked for duplicates
    /// (RFC 4862): it stays tentative, unused and not listed in
    /// [`DirectStack::ip_addresses`], while `config.dad_transmits` neighbour solicitations
    /// a second apart ask whether another host has it; it is taken if none answers, and
    /// never if one does ([`DirectStack::duplicate_ipv6`]). SLAAC starts once the
    /// link-local address passed. [`DirectStack::ipv6_checked`] waits for the checks.
    /// Other hosts' checks for the stack's addresses are answered.
    ///
    /// Call it before the stack carries traffic: the interface is made anew, and its cache
    /// of neighbours starts empty.
    pub fn enable_ipv6(&self, config: Ipv6Config) -> Result<(), IpError> {
        self.shared.state.borrow_mut().enable_ipv6(config)?;
        self.shared.wake.notify();
        Ok(())
    }

    /// Waits until no IPv6 address is being checked for duplicates (about a second per
    /// probe after [`DirectStack::enable_ipv6`], or after a router advertisement brought
    /// a new prefix), or the stack stopped, and gives the addresses found in use by
    /// another host (as [`DirectStack::duplicate_ipv6`]). The driver must be running.
    pub async fn ipv6_checked(&self) -> Vec<core::net::Ipv6Addr> {
        let settled = || self.shared.state.borrow().dad.due().is_none();
        let checked = pin!(self.shared.addressed.until(settled));
        let stopped = pin!(self.shared.stopped());
        select(checked, stopped).await;
        self.duplicate_ipv6()
    }

    /// IPv6 addresses being checked for duplicates, not yet in use.
    pub fn tentative_ipv6(&self) -> Vec<core::net::Ipv6Addr> {
        self.shared.state.borrow().dad.tentative()
    }

    /// IPv6 addresses another host answered for while they were checked, and which the
    /// stack therefore did not take (the last eight, oldest first).
    pub fn duplicate_ipv6(&self) -> Vec<core::net::Ipv6Addr> {
        self.shared.state.borrow().dad.duplicates()
    }

    /// The stack's addresses with their prefixes, IPv4 and IPv6 (link-local included), as
    /// they are now (tentative ones not yet).
    pub fn ip_addresses(&self) -> Vec<mirage_types::IpCidr> {
        self.shared.state.borrow().configured_ips()
    }

    /// The current address, netmask and gateways (`None` while DHCP has no lease).
    pub fn ipv4_config(&self) -> Option<Ipv4Config> {
        self.shared.state.borrow().config.clone()
    }

    /// The MAC address the stack uses.
    pub fn mac(&self) -> MacAddr {
        self.net.mac()
    }

    /// V1's ARP view (`STACKV4` has no accessor for it; the direct stack has one).
    pub fn arp(&self) -> DirectArp<N> {
        DirectArp::new(self.shared.clone(), self.net.clone())
    }

    /// V1's ETHIF view: Ethernet frames through the stack's device.
    pub fn ethif(&self) -> DirectEthif<N> {
        DirectEthif::new(self.net.clone())
    }

    /// V1's ICMPV4 view (`STACKV4` has no accessor for it; the direct stack has one).
    pub fn icmpv4(&self) -> DirectIcmpv4 {
        DirectIcmpv4::new(self.shared.clone())
    }

    /// An ICMP echo sender for IPv4 and IPv6 destinations (what `ping` needs), on a socket of
    /// its own with a random identifier.
    pub fn ping(&self) -> DirectPing {
        DirectPing::new(self.shared.clone())
    }

    /// The stack's TCP timeout, as the socket stack's `StackConfig::idle_timeout`: how long
    /// a connection may go without an answer from its peer before it fails (keep-alives are
    /// sent at a quarter of it), how long a flow's read waits for data, and how long a write
    /// waits for room (a peer that stops reading, its window shut, is reset after it). The
    /// first applies to connections made or accepted from now on, the others at once; the
    /// default is two minutes.
    pub fn set_tcp_timeout(&self, timeout: Duration) {
        let mut state = self.shared.state.borrow_mut();
        state.tcp_timeout = timeout;
        // Listening sockets keep the handshake's shorter timeout (it was the shorter of the
        // two); connections take the new one when their handshake ends.
        let handshake = state::HANDSHAKE_TIMEOUT.min(timeout);
        for handle in state.pools.values().flatten().copied().collect::<Vec<_>>() {
            let socket = state
                .sockets
                .get_mut::<smoltcp::socket::tcp::Socket>(handle);
            state::set_timeout(socket, handshake);
        }
    }

    /// Sets each new TCP socket's receive and send buffers to `bytes` each way (at least
    /// 4 KiB; the default is 256 KiB). The receive buffer is the most a peer may send
    /// ahead (the window) and the send buffer the most a write leaves in flight, so smaller
    /// buffers fit more connections in the same memory and move bulk data more slowly over
    /// long round trips. Sockets made earlier keep theirs; a listening port's next
    /// connections are served by sockets already listening, one per port.
    pub fn set_tcp_buffers(&self, bytes: usize) {
        self.shared.state.borrow_mut().tcp_buffer = bytes.max(state::MIN_TCP_BUFFER);
    }

    /// Limits the memory all TCP sockets' buffers take together to `bytes` (unlimited by
    /// default). At the limit a listening port stops answering SYNs, which wait (or are
    /// sent again by their peers) until a connection closes and frees its buffers, and
    /// `create_connection` fails with an error saying so; connections already open go on.
    /// A unikernel, whose heap is all its memory, should set it below what the heap has
    /// free, leaving the application its share: a flood of connections then cannot use
    /// the heap up.
    pub fn set_tcp_memory_limit(&self, bytes: usize) {
        self.shared.state.borrow_mut().tcp_memory_limit = bytes;
    }

    /// Sizes TCP for a unikernel whose heap has `free` bytes left: buffers of 64 KiB each
    /// way, and at most half of `free` for all of them (the rest stays the application's).
    /// A flood of connections then waits for memory instead of using the heap up. Call it
    /// before binding ports.
    pub fn fit_tcp_to_heap(&self, free: usize) {
        self.set_tcp_buffers(64 * 1024);
        self.set_tcp_memory_limit(free / 2);
    }

    /// The bytes all TCP sockets' buffers take now.
    pub fn tcp_memory(&self) -> usize {
        self.shared.state.borrow().tcp_memory_used()
    }

    /// How many smoltcp sockets the stack holds: listening pools, open connections, and
    /// closing ones not yet freed (for monitoring, and to check nothing leaks).
    pub fn socket_count(&self) -> usize {
        self.shared.state.borrow().sockets.iter().count()
    }

    /// Frames the stack dropped because it fell behind the device (4096 were waiting).
    pub fn frames_dropped(&self) -> u64 {
        self.shared.state.borrow().queues.dropped
    }

    /// Datagrams to UDP `port` that its `listen_udpv4` callbacks could not keep up with
    /// (`None` until `listen` has bound the port).
    pub fn udp_dropped(&self, port: u16) -> Option<u64> {
        self.shared.callbacks.udp_dropped(port)
    }

    /// The network device underneath.
    pub fn network(&self) -> &N {
        &self.net
    }

    /// Once the stack has stopped: the driver's error, if it failed.
    pub(crate) fn driver_failure(&self) -> Result<(), StackError> {
        match self.shared.failure.borrow_mut().take() {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }
}

#[async_trait(?Send)]
impl<N: Network + 'static> Device for DirectStack<N> {
    /// Stops the driver and disconnects the network device.
    async fn disconnect(&self) {
        self.shared.disconnected.set(true);
        self.shared.wake.notify();
        self.net.disconnect().await;
    }
}

#[async_trait(?Send)]
impl<N: Network + 'static> StackV4 for DirectStack<N> {
    type Udp = DirectUdp;
    type Tcp = DirectTcp;
    type Ip = DirectIpv4;
    type TcpListener = DirectTcpListener;
    type UdpListener = DirectUdpListener;

    fn udpv4(&self) -> DirectUdp {
        DirectUdp::new(self.shared.clone())
    }

    fn tcpv4(&self) -> DirectTcp {
        DirectTcp::new(self.shared.clone())
    }

    fn ipv4(&self) -> DirectIpv4 {
        DirectIpv4::new(self.shared.clone())
    }

    /// Binds `port` (0: an ephemeral port): a pool of listening sockets completes handshakes
    /// from now on, into a backlog of up to 1024 connections.
    async fn bind_tcpv4(&self, port: u16) -> Result<DirectTcpListener, StackError> {
        if self.shared.disconnected.get() {
            return Err(StackError::Disconnected);
        }
        let (port, backlog) = self.shared.state.borrow_mut().bind_tcp(port, false)?;
        self.shared.wake.notify();
        Ok(DirectTcpListener::new(self.shared.clone(), port, backlog))
    }

    /// Binds `port` (0: an ephemeral port); 256 datagrams (1 MiB) wait for `recv`, and
    /// further ones are dropped and counted ([`mirage_types::UdpListener::dropped`]).
    async fn bind_udpv4(&self, port: u16) -> Result<DirectUdpListener, StackError> {
        if self.shared.disconnected.get() {
            return Err(StackError::Disconnected);
        }
        let (port, queue) = self.shared.state.borrow_mut().bind_udp(port, false)?;
        Ok(DirectUdpListener::new(self.shared.clone(), port, queue))
    }

    fn listen_udpv4_with(&self, port: u16, callback: UdpCallback) {
        self.shared.callbacks.set_udp(port, callback);
    }

    fn listen_tcpv4_with(&self, port: u16, callback: TcpCallback<StackFlow<Self>>) {
        self.shared.callbacks.set_tcp(port, callback);
    }

    /// Serves the registered callbacks until the stack stops, with the driver's error if it
    /// failed.
    async fn listen(&self) -> Result<(), StackError> {
        serve_callbacks(self, &self.shared.callbacks, self.shared.stopped()).await?;
        self.driver_failure()
    }
}
