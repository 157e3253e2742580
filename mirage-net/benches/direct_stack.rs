//! The direct stack's figures, each with its baseline in the same run (a `--release` bench
//! binary: whole transfers are timed, not small iterations):
//!
//! * bulk TCP between two `DirectStack`s over the in-memory link, against smoltcp driven
//!   directly over its own loopback device (one interface, both sockets, a tight poll loop);
//! * a 64-byte TCP ping-pong between two `DirectStack`s over the in-memory link, against the
//!   same between two smoltcp sockets over its loopback device (as an Ethernet link), and
//!   between two smoltcp interfaces each driven by its own task over in-memory queues;
//! * bulk TCP over a tap device with the kernel's TCP, against stock smoltcp over its own
//!   `TunTapInterface` (root only);
//! * the CPU an idle listening stack uses over 10 s;
//! * IPv6 against IPv4 on the same dual stacks (bulk TCP and the ping-pong), interleaved.
//!
//! `cargo bench -p mirage-net --bench direct_stack`. With `PING_PONG_ONLY=direct` (or
//! `loopback`, `tasks`) the bench binary runs that ping-pong contender alone, once: what
//! the instruction counts in BENCHMARKS.md come from (`valgrind --tool=callgrind` on the binary).

use mirage_net::{Addressing, DirectStack, MemLink};
use mirage_types::{
    Flow, Ipv4Config, Ipv6Config, Read, StackV4, StackV4V6, TcpListener, TcpListenerV4V6, TcpV4V6,
    Tcpv4,
};
use smoltcp::iface::{Config, Interface, SocketHandle, SocketSet};
use smoltcp::phy::{Device, DeviceCapabilities, Loopback, Medium};
use smoltcp::socket::tcp;
use smoltcp::time::Instant as SmolInstant;
use smoltcp::wire::{EthernetAddress, IpAddress, IpCidr};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::{Duration, Instant};

#[path = "direct_stack/smoltcp_tasks.rs"]
mod smoltcp_tasks;
#[path = "direct_stack/tap.rs"]
mod tap;

const BYTES: usize = 256 << 20;
const CHUNK: usize = 64 * 1024;
const BUFFER: usize = 256 * 1024;

/// Two direct stacks, 10.0.0.2 and 10.0.0.3, over the in-memory link.
async fn stack_pair() -> (DirectStack<MemLink>, DirectStack<MemLink>) {
    let (a, b) = MemLink::pair();
    let config =
        |last| Addressing::Static(Ipv4Config::default().address(Ipv4Addr::new(10, 0, 0, last)));
    (
        DirectStack::connect(a, config(2)).await.unwrap(),
        DirectStack::connect(b, config(3)).await.unwrap(),
    )
}

/// Starts `stack` listening on TCP `port`, where the first connection is read to its end:
/// the answer is its byte count and the seconds from its first byte to its end.
fn count_first_connection<N: mirage_types::Network + 'static>(
    stack: &DirectStack<N>,
    port: u16,
) -> tokio::sync::oneshot::Receiver<(usize, f64)> {
    let (done, finished) = tokio::sync::oneshot::channel();
    let done = std::cell::RefCell::new(Some(done));
    // Callbacks run while `listen` does.
    tokio::task::spawn_local({
        let stack = stack.clone();
        async move { stack.listen().await }
    });
    stack.listen_tcpv4(port, move |flow| {
        let done = done.borrow_mut().take();
        async move {
            let mut total = 0;
            let mut start = None;
            while let Ok(Read::Data(data)) = flow.read().await {
                start.get_or_insert_with(Instant::now);
                total += data.len();
            }
            if let Some(done) = done {
                let seconds = start.map_or(0.0, |s| s.elapsed().as_secs_f64());
                let _ = done.send((total, seconds));
            }
        }
    });
    finished
}

/// Seconds to move `BYTES` between two direct stacks over the in-memory link.
fn direct_stacks() -> f64 {
    mirage_unix::run(async {
        let (a, b) = stack_pair().await;
        let finished = count_first_connection(&b, 5001);
        let flow = a
            .tcpv4()
            .create_connection(SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 3), 5001))
            .await
            .unwrap();
        let chunk = vec![0x5a; CHUNK];
        let start = Instant::now();
        for _ in 0..BYTES / CHUNK {
            flow.write(&chunk).await.unwrap();
        }
        flow.close().await.unwrap();
        assert_eq!(finished.await.unwrap().0, BYTES);
        start.elapsed().as_secs_f64()
    })
}

/// smoltcp's loopback device as an Ethernet link is: 1500-byte MTU, checksums computed.
/// (The loopback device itself offers a 65535-byte MTU and skips checksums.)
struct AsEthernet(Loopback);

impl Device for AsEthernet {
    type RxToken<'a> = <Loopback as Device>::RxToken<'a>;
    type TxToken<'a> = <Loopback as Device>::TxToken<'a>;

    fn receive(&mut self, now: SmolInstant) -> Option<(Self::RxToken<'_>, Self::TxToken<'_>)> {
        self.0.receive(now)
    }

    fn transmit(&mut self, now: SmolInstant) -> Option<Self::TxToken<'_>> {
        self.0.transmit(now)
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut capabilities = DeviceCapabilities::default();
        capabilities.medium = Medium::Ethernet;
        capabilities.max_transmission_unit = 1514;
        capabilities
    }
}

/// Seconds to move `BYTES` with smoltcp alone: two sockets on one interface over its
/// loopback device, as an Ethernet link (`like_ethernet`) or as it comes.
fn smoltcp_loopback(like_ethernet: bool) -> f64 {
    if like_ethernet {
        smoltcp_transfer(&mut AsEthernet(Loopback::new(Medium::Ethernet)))
    } else {
        smoltcp_transfer(&mut Loopback::new(Medium::Ethernet))
    }
}

/// One smoltcp interface on `device` at 127.0.0.1 with two TCP sockets: a server listening
/// on `port` and a client connecting to it (the handshake happens as the caller polls).
fn smoltcp_pair<D: Device>(
    device: &mut D,
    port: u16,
) -> (Interface, SocketSet<'static>, SocketHandle, SocketHandle) {
    let config = Config::new(EthernetAddress([2, 0, 0, 0, 0, 1]).into());
    let mut iface = Interface::new(config, device, SmolInstant::now());
    iface.update_ip_addrs(|addrs| {
        let _ = addrs.push(IpCidr::new(IpAddress::v4(127, 0, 0, 1), 8));
    });
    let mut sockets = SocketSet::new(vec![]);
    let socket = || {
        tcp::Socket::new(
            tcp::SocketBuffer::new(vec![0; BUFFER]),
            tcp::SocketBuffer::new(vec![0; BUFFER]),
        )
    };
    let server = sockets.add(socket());
    let client = sockets.add(socket());
    sockets.get_mut::<tcp::Socket>(server).listen(port).unwrap();
    sockets
        .get_mut::<tcp::Socket>(client)
        .connect(
            iface.context(),
            (IpAddress::v4(127, 0, 0, 1), port),
            49_000 + port,
        )
        .unwrap();
    (iface, sockets, server, client)
}

fn smoltcp_transfer<D: Device>(device: &mut D) -> f64 {
    let (mut iface, mut sockets, server, client) = smoltcp_pair(device, 5001);
    let chunk = vec![0x5a; CHUNK];
    let mut sink = vec![0u8; CHUNK];
    let (mut sent, mut received) = (0, 0);
    let start = Instant::now();
    while received < BYTES {
        iface.poll(SmolInstant::now(), device, &mut sockets);
        let socket = sockets.get_mut::<tcp::Socket>(client);
        while sent < BYTES && socket.can_send() {
            let n = socket
                .send_slice(&chunk[..CHUNK.min(BYTES - sent)])
                .unwrap();
            if n == 0 {
                break;
            }
            sent += n;
        }
        let socket = sockets.get_mut::<tcp::Socket>(server);
        while socket.can_recv() {
            received += socket.recv_slice(&mut sink).unwrap();
        }
    }
    start.elapsed().as_secs_f64()
}

/// Round trips each ping-pong run times (after a warm-up of a tenth as many).
const ROUND_TRIPS: usize = 20_000;
const PING: usize = 64;

/// Microseconds per 64-byte round trip between two direct stacks over the in-memory link:
/// one writes, the other reads it whole and writes it back. Both ends are tasks, as a
/// server's connections are: the future given to `mirage_unix::run` is woken through the
/// runtime's I/O driver (an eventfd write, then an `epoll_wait`), a task spawned on the
/// `LocalSet` by a push onto its queue.
fn direct_ping_pong() -> f64 {
    let client = async {
        let (a, b) = stack_pair().await;
        let listener = b.bind_tcpv4(5002).await.unwrap();
        tokio::task::spawn_local(async move { echo_pings(listener.accept().await.unwrap()).await });
        let flow = a
            .tcpv4()
            .create_connection(SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 3), 5002))
            .await
            .unwrap();
        time_round_trips(&flow).await
    };
    mirage_unix::run(async { tokio::task::spawn_local(client).await.unwrap() })
}

/// The ping-pong's server: answers every `PING` bytes read with as many.
async fn echo_pings<F: Flow>(flow: F)
where
    F::Error: std::fmt::Debug,
{
    let mut pending = 0;
    while let Ok(Read::Data(data)) = flow.read().await {
        pending += data.len();
        while pending >= PING {
            flow.write(&[0xa5; PING]).await.unwrap();
            pending -= PING;
        }
    }
}

/// The ping-pong's client: microseconds per round trip over `ROUND_TRIPS`, after a warm-up.
async fn time_round_trips<F: Flow>(flow: &F) -> f64
where
    F::Error: std::fmt::Debug,
{
    let round_trip = || async {
        flow.write(&[0x5a; PING]).await.unwrap();
        let mut got = 0;
        while got < PING {
            match flow.read().await.unwrap() {
                Read::Data(data) => got += data.len(),
                Read::Eof => panic!("the echo ended"),
            }
        }
    };
    for _ in 0..ROUND_TRIPS / 10 {
        round_trip().await;
    }
    let start = Instant::now();
    for _ in 0..ROUND_TRIPS {
        round_trip().await;
    }
    start.elapsed().as_secs_f64() / ROUND_TRIPS as f64 * 1e6
}

/// Microseconds per 64-byte round trip with smoltcp alone: two sockets on one interface over
/// its loopback device as an Ethernet link, polled in a tight loop.
fn smoltcp_ping_pong() -> f64 {
    let device = &mut AsEthernet(Loopback::new(Medium::Ethernet));
    let (mut iface, mut sockets, server, client) = smoltcp_pair(device, 5002);
    let mut buf = [0u8; PING];
    let mut round_trip = |iface: &mut Interface, sockets: &mut SocketSet<'_>| {
        loop {
            iface.poll(SmolInstant::now(), device, sockets);
            if sockets.get_mut::<tcp::Socket>(client).can_send() {
                break;
            }
        }
        let sent = sockets
            .get_mut::<tcp::Socket>(client)
            .send_slice(&[0x5a; PING])
            .unwrap();
        assert_eq!(sent, PING);
        let (mut at_server, mut at_client) = (0, 0);
        while at_client < PING {
            iface.poll(SmolInstant::now(), device, sockets);
            let socket = sockets.get_mut::<tcp::Socket>(server);
            while socket.can_recv() && at_server < PING {
                at_server += socket.recv_slice(&mut buf).unwrap();
                if at_server == PING {
                    socket.send_slice(&[0xa5; PING]).unwrap();
                }
            }
            let socket = sockets.get_mut::<tcp::Socket>(client);
            while socket.can_recv() {
                at_client += socket.recv_slice(&mut buf).unwrap();
            }
        }
    };
    for _ in 0..ROUND_TRIPS / 10 {
        round_trip(&mut iface, &mut sockets);
    }
    let start = Instant::now();
    for _ in 0..ROUND_TRIPS {
        round_trip(&mut iface, &mut sockets);
    }
    start.elapsed().as_secs_f64() / ROUND_TRIPS as f64 * 1e6
}

fn cpu_seconds() -> f64 {
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// CPU seconds an idle stack with a listener uses over `wall`.
fn idle_cpu(wall: Duration) -> f64 {
    mirage_unix::run(async {
        let (a, _b) = MemLink::pair();
        let stack = DirectStack::connect(a, Addressing::default())
            .await
            .unwrap();
        // Callbacks run while `listen` does.
        tokio::task::spawn_local({
            let stack = stack.clone();
            async move { stack.listen().await }
        });
        stack.listen_tcpv4(8080, |_flow| async {});
        tokio::time::sleep(Duration::from_millis(100)).await;
        let before = cpu_seconds();
        tokio::time::sleep(wall).await;
        cpu_seconds() - before
    })
}

fn gbits(seconds: f64) -> f64 {
    BYTES as f64 * 8.0 / seconds / 1e9
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list` asks for the names of benchmarks
    }
    // `cargo bench --bench direct_stack -- ping` runs only the figures whose name holds "ping"
    // (bulk, ping-pong, tap, idle), as Criterion filters its benchmarks.
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let wanted = |name: &str| filter.as_ref().is_none_or(|f| name.contains(f.as_str()));
    let rounds = 5;
    // One ping-pong contender alone, once, for a profiler (`valgrind --tool=callgrind`
    // counts its instructions): PING_PONG_ONLY=direct|loopback|tasks.
    if let Ok(contender) = std::env::var("PING_PONG_ONLY") {
        let micros = match contender.as_str() {
            "direct" => direct_ping_pong(),
            "loopback" => smoltcp_ping_pong(),
            "tasks" => smoltcp_tasks::ping_pong(),
            other => panic!("PING_PONG_ONLY={other}: expected direct, loopback or tasks"),
        };
        return println!("{contender}: {micros:.2} us per round trip");
    }
    if wanted("bulk") {
        bulk(rounds);
    }
    if wanted("ping-pong") {
        ping_pong(rounds);
    }
    if wanted("tap") {
        tap_figures();
    }
    if wanted("idle") {
        idle();
    }
    if wanted("ipv6") {
        families(rounds);
    }
}

/// Two dual stacks over the in-memory link: 10.0.0.2 and fd00::2, 10.0.0.3 and fd00::3.
async fn dual_pair() -> (DirectStack<MemLink>, DirectStack<MemLink>) {
    let (a, b) = stack_pair().await;
    for (stack, address) in [(&a, "fd00::2/64"), (&b, "fd00::3/64")] {
        let config = Ipv6Config::default()
            .addresses(vec![address.parse().unwrap()])
            .slaac(false)
            // Alone on their link: no need to wait a second for the duplicate check.
            .dad_transmits(0);
        stack.enable_ipv6(config).unwrap();
    }
    (a, b)
}

/// Where the second stack of [`dual_pair`] serves `port`, over IPv4 or IPv6.
fn server(ipv6: bool, port: u16) -> SocketAddr {
    let ip = if ipv6 { "fd00::3" } else { "10.0.0.3" };
    SocketAddr::new(ip.parse().unwrap(), port)
}

/// Seconds to move `BYTES` between two dual stacks over IPv4 or IPv6 (the dual API both
/// ways: one port serving both families).
fn dual_bulk(ipv6: bool) -> f64 {
    mirage_unix::run(async {
        let (a, b) = dual_pair().await;
        let listener = b.bind_tcp(5003).await.unwrap();
        let counted = tokio::task::spawn_local(async move {
            let flow = listener.accept().await.unwrap();
            let mut total = 0;
            while let Ok(Read::Data(data)) = flow.read().await {
                total += data.len();
            }
            total
        });
        let flow = a.tcp().create_connection(server(ipv6, 5003)).await.unwrap();
        let chunk = vec![0x5a; CHUNK];
        let start = Instant::now();
        for _ in 0..BYTES / CHUNK {
            flow.write(&chunk).await.unwrap();
        }
        flow.close().await.unwrap();
        assert_eq!(counted.await.unwrap(), BYTES);
        start.elapsed().as_secs_f64()
    })
}

/// Microseconds per 64-byte round trip between two dual stacks over IPv4 or IPv6, as
/// [`direct_ping_pong`].
fn dual_ping_pong(ipv6: bool) -> f64 {
    let client = async move {
        let (a, b) = dual_pair().await;
        let listener = b.bind_tcp(5004).await.unwrap();
        tokio::task::spawn_local(async move { echo_pings(listener.accept().await.unwrap()).await });
        let flow = a.tcp().create_connection(server(ipv6, 5004)).await.unwrap();
        time_round_trips(&flow).await
    };
    mirage_unix::run(async { tokio::task::spawn_local(client).await.unwrap() })
}

/// IPv6 against IPv4 on the same dual stacks: bulk throughput and ping-pong speed, each as
/// IPv6's share of IPv4's (1.0: as fast), in interleaved rounds.
fn families(rounds: usize) {
    let (mut bulk4, mut bulk6, mut bulk_ratio) = (Vec::new(), Vec::new(), Vec::new());
    let (mut ping4, mut ping6, mut ping_ratio) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let order = if round % 2 == 0 {
            [false, true]
        } else {
            [true, false]
        };
        let (mut bulk, mut ping) = ([0.0; 2], [0.0; 2]);
        for ipv6 in order {
            bulk[usize::from(ipv6)] = dual_bulk(ipv6);
            ping[usize::from(ipv6)] = dual_ping_pong(ipv6);
        }
        bulk4.push(gbits(bulk[0]));
        bulk6.push(gbits(bulk[1]));
        bulk_ratio.push(bulk[0] / bulk[1]);
        ping4.push(ping[0]);
        ping6.push(ping[1]);
        ping_ratio.push(ping[0] / ping[1]);
    }
    println!(
        "IPv6 / IPv4 on the same dual DirectStacks over MemLink: bulk TCP, 256 MiB: IPv4 {:.2} Gbit/s, IPv6 {:.2} Gbit/s, ratio {:.2}; 64-byte ping-pong: IPv4 {:.1} us, IPv6 {:.1} us, ratio {:.2} (medians of {rounds} interleaved rounds)",
        median(&mut bulk4),
        median(&mut bulk6),
        median(&mut bulk_ratio),
        median(&mut ping4),
        median(&mut ping6),
        median(&mut ping_ratio),
    );
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn bulk(rounds: usize) {
    for like_ethernet in [true, false] {
        let (mut ours, mut theirs, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
        for round in 0..rounds {
            let (o, t) = if round % 2 == 0 {
                let t = smoltcp_loopback(like_ethernet);
                (direct_stacks(), t)
            } else {
                let o = direct_stacks();
                (o, smoltcp_loopback(like_ethernet))
            };
            ours.push(gbits(o));
            theirs.push(gbits(t));
            ratios.push(t / o);
        }
        let baseline = if like_ethernet {
            "smoltcp loopback as Ethernet (1500 MTU, checksums)"
        } else {
            "smoltcp loopback as it comes (65535 MTU, no checksums)"
        };
        println!(
            "bulk TCP, 256 MiB: two DirectStacks over MemLink {:.2} Gbit/s, {baseline} {:.2} Gbit/s, ratio {:.2} (medians of {rounds} interleaved rounds)",
            median(&mut ours),
            median(&mut theirs),
            median(&mut ratios)
        );
    }
}

fn ping_pong(rounds: usize) {
    let (mut ours, mut loopback, mut tasks) = (Vec::new(), Vec::new(), Vec::new());
    let (mut to_loopback, mut to_tasks) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        // Each round in its own order, so no figure always runs first or last.
        let mut figures = [0.0; 3];
        for which in [0, 1, 2].map(|i| (i + round) % 3) {
            figures[which] = match which {
                0 => direct_ping_pong(),
                1 => smoltcp_ping_pong(),
                _ => smoltcp_tasks::ping_pong(),
            };
        }
        let [o, l, t] = figures;
        ours.push(o);
        loopback.push(l);
        tasks.push(t);
        to_loopback.push(o / l);
        to_tasks.push(o / t);
    }
    println!(
        "64-byte TCP ping-pong: two DirectStacks over MemLink {:.1} us per round trip; two smoltcp sockets over its loopback as Ethernet {:.1} us, ratio {:.2}; two smoltcp interfaces in their own tasks over queues {:.1} us, ratio {:.2} (medians of {rounds} interleaved rounds)",
        median(&mut ours),
        median(&mut loopback),
        median(&mut to_loopback),
        median(&mut tasks),
        median(&mut to_tasks),
    );
}

fn tap_figures() {
    if tap::possible() {
        for mtu in [1500, 9000] {
            match tap::measure(mtu, 3, true) {
                Some(tap::Figures { ours, smoltcp }) => println!(
                    "bulk TCP over tap (MTU {mtu}) with the kernel, 256 MiB, medians of 3 interleaved rounds: kernel to stack {:.2} Gbit/s against stock smoltcp's {:.2} (ratio {:.2}), stack to kernel {:.2} against {:.2} (ratio {:.2})",
                    ours.0,
                    smoltcp.0,
                    ours.0 / smoltcp.0,
                    ours.1,
                    smoltcp.1,
                    ours.1 / smoltcp.1
                ),
                None => println!("bulk TCP over tap (MTU {mtu}): the namespace could not be made"),
            }
        }
        // The largest MTU a tap takes. Stock smoltcp's TunTapInterface stalls there (its
        // receive never completes), so the direct stack runs alone.
        let mtu = tap::LARGEST_MTU;
        match tap::measure(mtu, 3, false) {
            Some(tap::Figures { ours, .. }) => println!(
                "bulk TCP over tap (MTU {mtu}) with the kernel, 256 MiB, medians of 3 rounds: kernel to stack {:.2} Gbit/s, stack to kernel {:.2} (stock smoltcp does not complete at this MTU)",
                ours.0, ours.1
            ),
            None => println!("bulk TCP over tap (MTU {mtu}): the namespace could not be made"),
        }
    } else {
        println!("bulk TCP over tap: skipped (needs root, ip and nc)");
    }
}

fn idle() {
    let wall = Duration::from_secs(10);
    let cpu = idle_cpu(wall);
    println!(
        "idle listening stack: {:.4} CPU seconds in {} s ({:.3} %)",
        cpu,
        wall.as_secs(),
        cpu / wall.as_secs_f64() * 100.0
    );
}
