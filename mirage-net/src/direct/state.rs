//! The state one direct stack shares between its driver, views and flows.

use super::Addressing;
use super::device::Queues;
use super::flow::DirectFlow;
use super::tcp_memory::TcpMemory;
#[allow(unused_imports)]
use crate::alloc_prelude::*;
use crate::platform::StackPlatform;
use crate::signal::Signal;
use alloc::collections::{BTreeMap, VecDeque};
use alloc::rc::Rc;
use core::cell::{Cell, RefCell};
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use core::time::Duration;
use mirage_types::{
    CallbackRegistry, IpError, Ipv4Config, Ipv6Config, MacAddr, StackError, UdpDatagramV4V6,
    netmask_prefix_len,
};
use smoltcp::iface::{Config, Interface, SocketHandle, SocketSet};
use smoltcp::socket::{dhcpv4, tcp, udp};
use smoltcp::time::Instant;
use smoltcp::wire::{EthernetAddress, HardwareAddress, IpCidr, Ipv4Address, Ipv4Cidr, Ipv6Cidr};

/// Buffer sizes of each TCP socket, each way, unless the stack is told otherwise.
pub(crate) const TCP_BUFFER: usize = 256 * 1024;
/// The smallest buffer a socket may be given, each way (a window of a few segments).
pub(crate) const MIN_TCP_BUFFER: usize = 4 * 1024;
/// Listening sockets kept ready per TCP port. One: smoltcp visits every socket in each poll,
/// so each idle listener costs every round trip of every connection (four cost 3 % of a
/// ping-pong's instructions). A SYN that finds the listener mid-handshake is held for the
/// next poll, which comes at once, with a new listener (`Queues::backlog`).
pub(crate) const LISTEN_POOL: usize = 1;
/// At most this many sockets per port wait in `Listen` or mid-handshake: a SYN flood then
/// costs bounded memory (further SYNs are refused) and established connections go on.
pub(crate) const MAX_HALF_OPEN: usize = 48;
/// How long a handshake may take before its listening socket gives up and listens again:
/// short, so that half-open connections from a SYN flood free their slots soon.
pub(crate) const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the socket of a dropped flow may take to close gracefully before it is reset
/// and freed (a peer that never answers the FIN cannot hold its buffers).
pub(crate) const ORPHAN_LINGER: Duration = Duration::from_secs(5);
/// Milliseconds between DHCP DISCOVERs until an offer comes.
const DISCOVER_RETRY_MS: u64 = 500;
/// Datagrams buffered per UDP socket, and their total bytes.
const UDP_PACKETS: usize = 256;
/// Established connections waiting for `accept` on one port; beyond it they are reset.
pub(crate) const ACCEPT_BACKLOG: usize = 1024;
const UDP_BYTES: usize = 256 * 1024;

pub(crate) struct Shared {
    pub(crate) state: RefCell<State>,
    /// The application, the network or a view asked something of the stack: poll now.
    pub(crate) wake: super::nudge::Nudge,
    /// DHCP configured the stack.
    pub(crate) configured: Signal,
    /// The IPv6 addresses being checked for duplicates were settled.
    pub(crate) addressed: Signal,
    /// The driver stopped.
    pub(crate) stopped: Signal,
    pub(crate) disconnected: Cell<bool>,
    pub(crate) failure: RefCell<Option<StackError>>,
    pub(crate) connect_timeout: Duration,
    /// How long `configured` waits for the first DHCP lease (`None`: a static address).
    pub(crate) lease_timeout: Option<Duration>,
    /// MAC addresses seen in ARP packets, by IPv4 address (for the ARP view).
    pub(crate) neighbours: RefCell<super::neighbours::Neighbours>,
    /// An ARP packet was seen.
    pub(crate) neighbour_seen: Signal,
    /// Sockets of flows dropped while the state was borrowed, for the driver to close.
    pub(crate) dropped: RefCell<Vec<SocketHandle>>,
    /// V1's callbacks, served by `listen` over the pull form.
    pub(crate) callbacks: CallbackRegistry<DirectFlow>,
    /// Mirage 4's callbacks, for the dual face's `listen_v4v6`.
    pub(crate) callbacks_v4v6: CallbackRegistry<DirectFlow, UdpDatagramV4V6>,
    /// The clock, timers and random numbers.
    pub(crate) platform: StackPlatform,
}

impl Shared {
    /// Resolves once the stack has stopped (disconnected, or its driver failed).
    pub(crate) async fn stopped(&self) {
        self.stopped.until(|| self.disconnected.get()).await
    }
}

/// Datagrams waiting for `recv` on a bound UDP port, at most [`UDP_QUEUE_DATAGRAMS`] and
/// [`UDP_QUEUE_BYTES`]; beyond them they are dropped and counted.
#[derive(Default)]
pub(crate) struct UdpQueue {
    /// Whether IPv6 datagrams are for it too (bound by the dual stack) or dropped.
    pub(crate) dual: bool,
    pub(crate) datagrams: RefCell<VecDeque<UdpDatagramV4V6>>,
    pub(crate) bytes: Cell<usize>,
    pub(crate) dropped: Cell<u64>,
    pub(crate) ready: Signal,
}

/// Datagrams queued per bound UDP port, and their total payload.
pub(crate) const UDP_QUEUE_DATAGRAMS: usize = 256;
pub(crate) const UDP_QUEUE_BYTES: usize = 1024 * 1024;

impl UdpQueue {
    /// Queues `datagram`, or drops and counts it when the queue is full.
    pub(crate) fn push(&self, datagram: UdpDatagramV4V6) {
        let len = datagram.data.len();
        let mut datagrams = self.datagrams.borrow_mut();
        if datagrams.len() >= UDP_QUEUE_DATAGRAMS || self.bytes.get() + len > UDP_QUEUE_BYTES {
            self.dropped.set(self.dropped.get() + 1);
            return;
        }
        self.bytes.set(self.bytes.get() + len);
        datagrams.push_back(datagram);
        self.ready.notify();
    }

    /// The oldest datagram, if any.
    pub(crate) fn pop(&self) -> Option<UdpDatagramV4V6> {
        let datagram = self.datagrams.borrow_mut().pop_front()?;
        self.bytes.set(self.bytes.get() - datagram.data.len());
        Some(datagram)
    }
}

/// Connections accepted on a bound port, waiting for `accept`.
#[derive(Default)]
pub(crate) struct Backlog {
    /// Whether IPv6 connections are for it too (bound by the dual stack) or refused.
    pub(crate) dual: bool,
    pub(crate) flows: RefCell<VecDeque<DirectFlow>>,
    pub(crate) ready: Signal,
}

pub(crate) struct State {
    pub(crate) iface: Interface,
    pub(crate) sockets: SocketSet<'static>,
    /// The memory of each TCP socket's buffers. After `sockets`, so that the sockets using
    /// it are dropped first.
    tcp_memory: BTreeMap<SocketHandle, TcpMemory>,
    /// Bytes of `tcp_memory`, and at most how many there may be.
    tcp_memory_used: usize,
    pub(crate) tcp_memory_limit: usize,
    /// Each new TCP socket's buffer size, each way.
    pub(crate) tcp_buffer: usize,
    pub(crate) queues: Queues,
    /// IPv6 fragments waiting for the rest of their datagram.
    pub(crate) reassembly: super::reassembly::Reassembly,
    /// IPv6 addresses checked for duplicates before they are taken.
    pub(crate) dad: super::dad::Dad,
    /// SLAAC is asked for and waits for the link-local address to pass its check (smoltcp
    /// solicits routers from that address, and SLAAC's addresses share its identifier).
    slaac_waiting: bool,
    /// Bound TCP ports' backlogs.
    pub(crate) backlogs: BTreeMap<u16, Rc<Backlog>>,
    /// UDP ports bound with `bind_udpv4`, and their queues.
    pub(crate) udp_bound: BTreeMap<u16, Rc<UdpQueue>>,
    /// Listening sockets by port.
    pub(crate) pools: BTreeMap<u16, Vec<SocketHandle>>,
    /// Whether the pools need no upkeep: every socket in them is listening (no handshake
    /// under way) and no SYN has reached smoltcp since that was checked. Only a SYN, or a
    /// handshake ending, changes a pool; until one does the driver skips walking them.
    pub(crate) pools_settled: bool,
    /// [`State::listening`] as of when the pools settled.
    listening_settled: usize,
    /// UDP sockets by local port.
    pub(crate) udp_sockets: BTreeMap<u16, SocketHandle>,
    /// The port of UDP writes that name no source port.
    pub(crate) ephemeral_udp: Option<u16>,
    pub(crate) dhcp: Option<SocketHandle>,
    pub(crate) icmp: Option<SocketHandle>,
    /// The address, netmask and gateways in force.
    pub(crate) config: Option<Ipv4Config>,
    /// IPv6 as [`State::enable_ipv6`] set it (`None`: IPv4 only).
    pub(crate) ipv6: Option<Ipv6Config>,
    mac: MacAddr,
    /// How long a connection may go without an answer before it fails.
    pub(crate) tcp_timeout: Duration,
    /// Sockets of dropped flows, removed once closed, with when they were dropped.
    pub(crate) orphans: Vec<(SocketHandle, Duration)>,
    /// The clock and random numbers.
    platform: StackPlatform,
}

impl State {
    /// A stack's state; a static configuration that cannot be a host's is refused.
    pub(crate) fn new(
        mac: MacAddr,
        mtu: usize,
        addressing: &Addressing,
        platform: StackPlatform,
    ) -> Result<Self, IpError> {
        let mut queues = Queues::new(mtu);
        let mut config = Config::new(HardwareAddress::Ethernet(EthernetAddress(mac.0)));
        config.random_seed = platform.random_u64();
        let iface = Interface::new(config, &mut queues, smoltcp_now(&platform));
        let mut state = State {
            iface,
            sockets: SocketSet::new(Vec::new()),
            tcp_memory: BTreeMap::new(),
            tcp_memory_used: 0,
            tcp_memory_limit: usize::MAX,
            tcp_buffer: TCP_BUFFER,
            queues,
            reassembly: Default::default(),
            dad: Default::default(),
            slaac_waiting: false,
            backlogs: BTreeMap::new(),
            udp_bound: BTreeMap::new(),
            pools: BTreeMap::new(),
            pools_settled: false,
            listening_settled: usize::MAX,
            udp_sockets: BTreeMap::new(),
            ephemeral_udp: None,
            dhcp: None,
            icmp: None,
            config: None,
            ipv6: None,
            mac,
            tcp_timeout: Duration::from_secs(120),
            orphans: Vec::new(),
            platform,
        };
        match addressing {
            Addressing::Static(config) => state.configure(config.clone())?,
            Addressing::Dhcp { .. } => {
                let mut dhcp = dhcpv4::Socket::new();
                // smoltcp asks again after 10 s, as long as a caller waits for a lease by
                // default: one DISCOVER lost (the link just up, the server not yet
                // answering; seen under CI's load) would cost the lease. Ask every half
                // second (about 700 bytes a second while no server answers).
                let mut retry = dhcp.get_retry_config();
                retry.discover_timeout = smoltcp::time::Duration::from_millis(DISCOVER_RETRY_MS);
                dhcp.set_retry_config(retry);
                state.dhcp = Some(state.sockets.add(dhcp));
            }
        }
        Ok(state)
    }

    /// Puts `config` in force: the address with its prefix, and the first gateway as the
    /// default route. A configuration no host can have (smoltcp would panic on it) is
    /// refused. IPv6 addresses stay as they are.
    pub(crate) fn configure(&mut self, config: Ipv4Config) -> Result<(), IpError> {
        config.check()?;
        let prefix = netmask_prefix_len(config.netmask).unwrap_or(32);
        self.iface.update_ip_addrs(|addrs| {
            let ipv6: Vec<IpCidr> = addrs.iter().filter(|a| is_ipv6(a)).copied().collect();
            addrs.clear();
            let _ = addrs.push(IpCidr::Ipv4(Ipv4Cidr::new(config.address, prefix)));
            for cidr in ipv6 {
                let _ = addrs.push(cidr);
            }
        });
        self.iface.routes_mut().remove_default_ipv4_route();
        if let Some(gateway) = config.gateways.first() {
            let _ = self.iface.routes_mut().add_default_ipv4_route(*gateway);
        }
        self.config = Some(config);
        Ok(())
    }

    /// Forgets the address (a DHCP lease ran out).
    pub(crate) fn deconfigure(&mut self) {
        self.iface.update_ip_addrs(|addrs| addrs.retain(is_ipv6));
        self.iface.routes_mut().remove_default_ipv4_route();
        self.config = None;
    }

    pub(crate) fn address(&self) -> Option<Ipv4Addr> {
        self.config.as_ref().map(|c| c.address)
    }

    /// Turns IPv6 on (or changes it) with `config`: the link-local address made from the
    /// MAC address, the fixed addresses, the default router, and SLAAC if asked. smoltcp
    /// takes SLAAC only when its interface is made, so the interface is made anew, with the
    /// IPv4 configuration carried over (the neighbour cache starts empty). With duplicate
    /// address detection the addresses wait off the interface until they pass, and SLAAC
    /// until the link-local address has.
    pub(crate) fn enable_ipv6(&mut self, config: Ipv6Config) -> Result<(), IpError> {
        config.check()?;
        // One each for the link-local address and IPv4's, and SLAAC's share if on.
        let slaac = if config.slaac { SLAAC_ADDRESSES } else { 0 };
        let room = IFACE_ADDRESSES - 2 - slaac;
        if config.addresses.len() > room {
            return Err(IpError::InvalidConfig(format!(
                "{} fixed IPv6 addresses: the direct stack holds at most {room}",
                config.addresses.len()
            )));
        }
        let link_local = link_local_address(self.mac);
        let mut addresses = vec![IpCidr::Ipv6(Ipv6Cidr::new(link_local, 64))];
        addresses.extend(
            config
                .addresses
                .iter()
                .filter_map(|cidr| match cidr.address() {
                    IpAddr::V6(address) => {
                        Some(IpCidr::Ipv6(Ipv6Cidr::new(address, cidr.prefix_len())))
                    }
                    IpAddr::V4(_) => None,
                }),
        );
        let checked = config.dad_transmits == 0;
        self.slaac_waiting = config.slaac && !checked;
        self.dad = super::dad::Dad::new(config.dad_transmits);
        let slaac_now = config.slaac && checked;
        self.ipv6 = Some(config);
        self.new_iface(slaac_now, &addresses)?;
        self.dad_upkeep(smoltcp_now(&self.platform));
        Ok(())
    }

    /// Makes the interface anew, with SLAAC on or off, holding `ipv6` and the IPv4 and
    /// IPv6 configurations in force.
    fn new_iface(&mut self, slaac: bool, ipv6: &[IpCidr]) -> Result<(), IpError> {
        let mut iface_config = Config::new(HardwareAddress::Ethernet(EthernetAddress(self.mac.0)));
        iface_config.random_seed = self.platform.random_u64();
        iface_config.slaac = slaac;
        let now = smoltcp_now(&self.platform);
        self.iface = Interface::new(iface_config, &mut self.queues, now);
        self.iface.update_ip_addrs(|addrs| {
            for cidr in ipv6 {
                let _ = addrs.push(*cidr);
            }
        });
        if let Some(gateway) = self.ipv6.as_ref().and_then(|config| config.gateway) {
            let _ = self.iface.routes_mut().add_default_ipv6_route(gateway);
        }
        match self.config.clone() {
            Some(v4) => self.configure(v4),
            None => Ok(()),
        }
    }

    /// Duplicate address detection's turn (see [`super::dad::Dad::upkeep`]); once the
    /// link-local address passed, SLAAC starts if it was asked for. Returns whether the
    /// addresses being checked were just settled.
    pub(crate) fn dad_upkeep(&mut self, now: Instant) -> bool {
        if self.ipv6.is_none() {
            return false;
        }
        let queues = &mut self.queues;
        self.dad.upkeep(&mut self.iface, self.mac, now, |frame| {
            queues.to_send.push_back(frame.into())
        });
        if self.slaac_waiting {
            let link_local = link_local_address(self.mac);
            if self.iface.has_ip_addr(link_local) {
                self.slaac_waiting = false;
                let addresses: Vec<IpCidr> = self
                    .iface
                    .ip_addrs()
                    .iter()
                    .filter(|a| is_ipv6(a))
                    .copied()
                    .collect();
                // The configuration was checked when IPv6 was enabled.
                let _ = self.new_iface(true, &addresses);
            } else if self.dad.is_duplicate(link_local) {
                // Another host has our interface identifier: SLAAC's addresses would
                // collide too.
                self.slaac_waiting = false;
            }
        }
        self.dad.just_settled()
    }

    /// Whether IPv6 is on.
    pub(crate) fn has_ipv6(&self) -> bool {
        self.ipv6.is_some()
    }

    /// The first IPv6 address beyond link-local (fixed, or from SLAAC).
    pub(crate) fn global_ipv6(&self) -> Option<Ipv6Addr> {
        self.iface.ip_addrs().iter().find_map(|cidr| match cidr {
            IpCidr::Ipv6(v6) if !v6.address().is_unicast_link_local() => Some(v6.address()),
            _ => None,
        })
    }

    /// Every address with its prefix, IPv4 first.
    pub(crate) fn configured_ips(&self) -> Vec<mirage_types::IpCidr> {
        self.iface
            .ip_addrs()
            .iter()
            .filter_map(|cidr| {
                mirage_types::IpCidr::new(IpAddr::from(cidr.address()), cidr.prefix_len()).ok()
            })
            .collect()
    }

    /// A new TCP socket in the set, with `timeout` for silent peers and buffers of
    /// `tcp_buffer` bytes each way in memory of its own (see [`TcpMemory`]); refused when
    /// that would take the sockets' buffers past `tcp_memory_limit`, or the memory is not
    /// there.
    pub(crate) fn add_tcp_socket(&mut self, timeout: Duration) -> Result<SocketHandle, String> {
        let each = self.tcp_buffer;
        if self.tcp_memory_used.saturating_add(2 * each) > self.tcp_memory_limit {
            return Err(format!(
                "the TCP buffers' limit of {} bytes is reached ({} in use)",
                self.tcp_memory_limit, self.tcp_memory_used
            ));
        }
        let memory = TcpMemory::new(each)?;
        // SAFETY: the buffers go to this socket only, and `free_socket` (or the state's drop,
        // `sockets` before `tcp_memory`) drops the socket before the memory.
        let (rx, tx) = unsafe { memory.buffers() };
        let mut socket = tcp::Socket::new(tcp::SocketBuffer::new(rx), tcp::SocketBuffer::new(tx));
        set_timeout(&mut socket, timeout);
        let handle = self.sockets.add(socket);
        self.tcp_memory_used += memory.len();
        self.tcp_memory.insert(handle, memory);
        Ok(handle)
    }

    /// Bytes all TCP sockets' buffers take.
    pub(crate) fn tcp_memory_used(&self) -> usize {
        self.tcp_memory_used
    }

    /// Removes a socket from the set and frees its buffers' memory, which a pool left short
    /// for want of it may now take (the pools are looked at again).
    pub(crate) fn free_socket(&mut self, handle: SocketHandle) {
        drop(self.sockets.remove(handle));
        if let Some(memory) = self.tcp_memory.remove(&handle) {
            self.tcp_memory_used -= memory.len();
            self.pools_settled = false;
        }
    }

    pub(crate) fn new_udp_socket() -> udp::Socket<'static> {
        udp::Socket::new(
            udp::PacketBuffer::new(
                vec![udp::PacketMetadata::EMPTY; UDP_PACKETS],
                vec![0; UDP_BYTES],
            ),
            udp::PacketBuffer::new(
                vec![udp::PacketMetadata::EMPTY; UDP_PACKETS],
                vec![0; UDP_BYTES],
            ),
        )
    }

    /// A local port from the ephemeral range that no socket uses (a TCP connection sharing
    /// its port and peer with another would take the other's segments).
    pub(crate) fn ephemeral_port(&self) -> u16 {
        let in_use = |port: u16| {
            self.udp_sockets.contains_key(&port)
                || self.pools.contains_key(&port)
                || self.sockets.iter().any(|(_, socket)| match socket {
                    smoltcp::socket::Socket::Tcp(tcp) => {
                        tcp.local_endpoint().is_some_and(|end| end.port == port)
                    }
                    _ => false,
                })
        };
        loop {
            // 16,384 ports: the low bits of a random number are uniform over them.
            let port = 49152 + (self.platform.random_u64() % 16384) as u16;
            if !in_use(port) {
                return port;
            }
        }
    }

    /// The UDP socket bound to `port`, made if needed.
    pub(crate) fn udp_socket(&mut self, port: u16) -> SocketHandle {
        if let Some(&handle) = self.udp_sockets.get(&port) {
            return handle;
        }
        let mut socket = Self::new_udp_socket();
        // Port 0 is never asked for: callers pick an ephemeral port first.
        let _ = socket.bind(port);
        let handle = self.sockets.add(socket);
        self.udp_sockets.insert(port, handle);
        handle
    }

    /// Binds TCP `port` (0: an ephemeral one): a listening pool and a backlog, for IPv6
    /// connections too if `dual`.
    pub(crate) fn bind_tcp(
        &mut self,
        port: u16,
        dual: bool,
    ) -> Result<(u16, Rc<Backlog>), StackError> {
        let port = if port == 0 {
            self.ephemeral_port()
        } else {
            port
        };
        if self.pools.contains_key(&port) {
            return Err(StackError::Bind {
                protocol: "TCP",
                port,
                reason: "the port is already bound on this stack".into(),
            });
        }
        let backlog = Rc::new(Backlog {
            dual,
            ..Backlog::default()
        });
        self.backlogs.insert(port, backlog.clone());
        self.replenish(port);
        self.pools_settled = false;
        Ok((port, backlog))
    }

    /// Hands the socket of a dropped flow to the driver, which frees it once it has closed
    /// (or resets it: see [`State::reap_orphans`]).
    pub(crate) fn orphan(&mut self, handle: SocketHandle) {
        self.orphans.push((handle, self.platform.now()));
    }

    /// Frees the sockets of dropped flows that have closed. One whose peer goes on sending,
    /// or that has not closed within [`ORPHAN_LINGER`], is reset first, so a dropped flow
    /// never keeps its buffers while its peer stays up.
    pub(crate) fn reap_orphans(&mut self) {
        if self.orphans.is_empty() {
            return;
        }
        let sockets = &mut self.sockets;
        let now = self.platform.now();
        let mut freed = Vec::new();
        self.orphans.retain(|&(handle, since)| {
            let socket = sockets.get_mut::<tcp::Socket>(handle);
            if socket.can_recv() || now.saturating_sub(since) > ORPHAN_LINGER {
                // Data nobody will read, or a peer that never finishes: as a kernel does
                // for a socket closed with unread data, reset.
                socket.abort();
            }
            let closed = matches!(socket.state(), tcp::State::Closed | tcp::State::TimeWait);
            if closed {
                freed.push(handle);
            }
            !closed
        });
        for handle in freed {
            self.free_socket(handle);
        }
    }

    /// Closes TCP `port`: its listening sockets go, handshakes in progress are reset.
    pub(crate) fn unbind_tcp(&mut self, port: u16) {
        self.pools_settled = false;
        self.backlogs.remove(&port);
        for handle in self.pools.remove(&port).unwrap_or_default() {
            let socket = self.sockets.get_mut::<tcp::Socket>(handle);
            if socket.state() == tcp::State::Listen {
                self.free_socket(handle);
            } else {
                socket.abort();
                self.orphan(handle);
            }
        }
    }

    /// Binds UDP `port` (0: an ephemeral one), for IPv6 datagrams too if `dual`.
    pub(crate) fn bind_udp(
        &mut self,
        port: u16,
        dual: bool,
    ) -> Result<(u16, Rc<UdpQueue>), StackError> {
        let port = if port == 0 {
            self.ephemeral_port()
        } else {
            port
        };
        if self.udp_bound.contains_key(&port) {
            return Err(StackError::Bind {
                protocol: "UDP",
                port,
                reason: "the port is already bound on this stack".into(),
            });
        }
        self.udp_socket(port);
        let queue = Rc::new(UdpQueue {
            dual,
            ..UdpQueue::default()
        });
        self.udp_bound.insert(port, queue.clone());
        Ok((port, queue))
    }

    /// Moves the datagrams smoltcp received on bound ports to their queues.
    pub(crate) fn queue_datagrams(&mut self) {
        let local = self.address().unwrap_or(Ipv4Addr::UNSPECIFIED);
        for (&port, queue) in &self.udp_bound {
            let Some(&handle) = self.udp_sockets.get(&port) else {
                continue;
            };
            let socket = self.sockets.get_mut::<udp::Socket>(handle);
            while let Ok((data, meta)) = socket.recv() {
                let src = IpAddr::from(meta.endpoint.addr);
                if src.is_ipv6() && !queue.dual {
                    continue;
                }
                let dst = match (meta.local_address, src) {
                    (Some(address), _) => IpAddr::from(address),
                    (None, IpAddr::V4(_)) => IpAddr::V4(local),
                    (None, IpAddr::V6(_)) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
                };
                queue.push(UdpDatagramV4V6 {
                    src,
                    src_port: meta.endpoint.port,
                    dst,
                    dst_port: port,
                    data: bytes::Bytes::copy_from_slice(data),
                });
            }
        }
    }

    /// Closes UDP `port`, freeing its socket (unless it is the port of unnamed writes).
    pub(crate) fn unbind_udp(&mut self, port: u16) {
        self.udp_bound.remove(&port);
        if self.ephemeral_udp != Some(port)
            && let Some(handle) = self.udp_sockets.remove(&port)
        {
            self.sockets.remove(handle);
        }
    }

    /// Tops up the pool on `port` so that `LISTEN_POOL` sockets wait in `Listen` (those in
    /// the middle of a handshake do not count).
    pub(crate) fn replenish(&mut self, port: u16) {
        let pool = self.pools.entry(port).or_default();
        let sockets = &mut self.sockets;
        // A handshake that timed out leaves its socket closed: it listens again.
        for &handle in pool.iter() {
            let socket = sockets.get_mut::<tcp::Socket>(handle);
            if socket.state() == tcp::State::Closed {
                let _ = socket.listen(port);
            }
        }
        let listening = pool
            .iter()
            .filter(|&&h| sockets.get::<tcp::Socket>(h).state() == tcp::State::Listen)
            .count();
        let room = MAX_HALF_OPEN.saturating_sub(pool.len());
        let wanted = LISTEN_POOL.min(listening + room).saturating_sub(listening);
        let timeout = HANDSHAKE_TIMEOUT.min(self.tcp_timeout);
        for _ in 0..wanted {
            // Without memory for another socket, the pool stays short (SYNs are refused).
            let Ok(handle) = self.add_tcp_socket(timeout) else {
                break;
            };
            if self
                .sockets
                .get_mut::<tcp::Socket>(handle)
                .listen(port)
                .is_err()
            {
                self.free_socket(handle);
                break;
            }
            self.pools.entry(port).or_default().push(handle);
        }
    }

    /// The connections the TCP sockets hold, handshakes under way included, as (peer
    /// address, peer port, local port); closed and TIME-WAIT sockets left out (a new
    /// connection may reuse their pair of ports).
    pub(crate) fn connections(&self) -> alloc::collections::BTreeSet<(IpAddr, u16, u16)> {
        self.sockets
            .iter()
            .filter_map(|(_, socket)| match socket {
                smoltcp::socket::Socket::Tcp(tcp)
                    if !matches!(
                        tcp.state(),
                        tcp::State::Listen | tcp::State::Closed | tcp::State::TimeWait
                    ) =>
                {
                    let remote = tcp.remote_endpoint()?;
                    let local = tcp.local_endpoint()?;
                    Some((IpAddr::from(remote.addr), remote.port, local.port))
                }
                _ => None,
            })
            .collect()
    }

    /// Whether some port has no socket listening although it may hold more half-open ones:
    /// there was no memory for another socket (the pools' upkeep tries again each poll).
    pub(crate) fn pool_short(&self) -> bool {
        self.pools.values().any(|pool| {
            pool.len() < MAX_HALF_OPEN
                && !pool
                    .iter()
                    .any(|&h| self.sockets.get::<tcp::Socket>(h).state() == tcp::State::Listen)
        })
    }

    /// How many SYNs the stack can take before its pools are refilled: the fewest sockets
    /// listening on any port.
    pub(crate) fn listening(&self) -> usize {
        if self.pools_settled {
            return self.listening_settled;
        }
        self.pools
            .values()
            .map(|pool| {
                pool.iter()
                    .filter(|&&h| self.sockets.get::<tcp::Socket>(h).state() == tcp::State::Listen)
                    .count()
            })
            .min()
            .unwrap_or(usize::MAX)
    }

    /// After the pools' upkeep: notes whether every pool is full and every socket in it
    /// listening, so the next polls may skip the upkeep until a SYN arrives. A pool left
    /// short (no memory for a socket) is not settled: each poll tries again.
    pub(crate) fn settle_pools(&mut self) {
        self.pools_settled = false;
        let sockets = &self.sockets;
        let idle = self.pools.values().all(|pool| {
            pool.len() >= LISTEN_POOL
                && pool
                    .iter()
                    .all(|&h| sockets.get::<tcp::Socket>(h).state() == tcp::State::Listen)
        });
        if idle {
            self.listening_settled = self.listening();
            self.pools_settled = true;
        }
    }

    /// Address of a DHCP configuration as V1's config.
    pub(crate) fn from_dhcp(config: &dhcpv4::Config<'_>) -> Ipv4Config {
        let prefix = config.address.prefix_len();
        let netmask = Ipv4Address::from(if prefix == 0 {
            0
        } else {
            u32::MAX << (32 - prefix)
        });
        Ipv4Config::new(
            config.address.address(),
            netmask,
            config.router.into_iter().collect(),
        )
    }
}

/// Addresses smoltcp's interface holds at most (its `iface-max-addr-count-8` feature).
const IFACE_ADDRESSES: usize = 8;
/// Addresses kept free for SLAAC (its `iface-max-prefix-count-4` feature: one per prefix).
const SLAAC_ADDRESSES: usize = 4;

/// Whether `cidr` is an IPv6 one.
fn is_ipv6(cidr: &IpCidr) -> bool {
    matches!(cidr, IpCidr::Ipv6(_))
}

/// The link-local address of `mac` (fe80::/64 and its modified EUI-64, RFC 4291), the one
/// SLAAC's addresses share their interface identifier with.
pub(crate) fn link_local_address(mac: MacAddr) -> Ipv6Addr {
    let m = mac.0;
    Ipv6Addr::from([
        0xfe,
        0x80,
        0,
        0,
        0,
        0,
        0,
        0,
        m[0] ^ 0x02,
        m[1],
        m[2],
        0xff,
        0xfe,
        m[3],
        m[4],
        m[5],
    ])
}

/// The time as smoltcp takes it, from the platform's monotonic clock (smoltcp's own
/// `Instant::now` reads the wall clock, which may step back or jump ahead and would stall or
/// fire TCP timers).
pub(crate) fn smoltcp_now(platform: &StackPlatform) -> Instant {
    Instant::from_micros(platform.now().as_micros() as i64)
}

/// The platform's instant (since its clock's origin) of smoltcp's `at`.
pub(crate) fn platform_instant(at: Instant) -> Duration {
    Duration::from_micros(at.total_micros().max(0) as u64)
}

/// Gives `socket` a timeout for silent peers, with keep-alives at a quarter of it so that a
/// vanished peer is noticed even on an idle connection.
pub(crate) fn set_timeout(socket: &mut tcp::Socket<'static>, timeout: Duration) {
    let timeout = smoltcp::time::Duration::from_micros(timeout.as_micros() as u64);
    socket.set_keep_alive(Some(timeout / 4));
    socket.set_timeout(Some(timeout));
}
