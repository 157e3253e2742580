//! Bulk TCP over a tap device against the kernel's TCP (netcat) in a network namespace made
//! for the purpose: the direct stack, and stock smoltcp driving its own `TunTapInterface` in
//! a poll loop as the baseline, on the same kind of tap with the same MTU.

use super::{BUFFER, BYTES, CHUNK};
use mirage_net::{Addressing, DirectStack};
use mirage_types::{Flow, Read, StackV4, Tcpv4};
use smoltcp::iface::{Config, Interface, SocketSet};
use smoltcp::phy::{Medium, TunTapInterface};
use smoltcp::socket::tcp;
use smoltcp::time::Instant as SmolInstant;
use smoltcp::wire::{EthernetAddress, IpAddress, IpCidr};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::os::fd::AsRawFd;
use std::process::Command;
use std::time::{Duration, Instant};

fn sh(script: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .status()
        .is_ok_and(|s| s.success())
}

/// Whether the tap figures can be taken here (root, `ip` and `nc`).
pub fn possible() -> bool {
    // SAFETY: no arguments, no side effects.
    let root = unsafe { libc::geteuid() } == 0;
    root && sh("command -v ip >/dev/null && command -v nc >/dev/null")
}

/// Runs `f` in a fresh namespace holding `tap0` at 10.0.0.1/24 with MTU `mtu` (this thread
/// stays in it afterwards; the namespace is deleted). `None` if it cannot be made.
fn in_namespace<R>(mtu: usize, f: impl FnOnce() -> R) -> Option<R> {
    let name = format!("mirage-bench-{}", std::process::id());
    let made = sh(&format!(
        "ip netns add {name} && ip netns exec {name} sh -c 'ip link set lo up && \
         ip tuntap add tap0 mode tap && ip link set tap0 mtu {mtu} && \
         ip addr add 10.0.0.1/24 dev tap0 && ip link set tap0 up'"
    ));
    let result = made.then(|| {
        let handle = std::fs::File::open(format!("/var/run/netns/{name}")).unwrap();
        // SAFETY: a namespace file this opened.
        assert_eq!(
            unsafe { libc::setns(handle.as_raw_fd(), libc::CLONE_NEWNET) },
            0
        );
        f()
    });
    let _ = Command::new("ip").args(["netns", "del", &name]).status();
    result
}

/// The kernel sends `BYTES` to 10.0.0.2:5001 (netcat from /dev/zero).
fn kernel_sends() -> std::process::Child {
    Command::new("sh")
        .arg("-c")
        .arg(format!("head -c {BYTES} /dev/zero | nc -N 10.0.0.2 5001"))
        .spawn()
        .unwrap()
}

/// The kernel takes everything sent to 10.0.0.1:5002 and closes at the end.
fn kernel_receives() -> std::process::Child {
    Command::new("sh")
        .arg("-c")
        .arg("nc -l 10.0.0.1 5002 < /dev/null > /dev/null")
        .spawn()
        .unwrap()
}

/// Seconds each way (kernel to stack, stack to kernel) for the direct stack on `tap0`.
fn direct() -> (f64, f64) {
    mirage_unix::run(async {
        let tap = mirage_unix::Tap::open("tap0").unwrap();
        let stack = DirectStack::connect(tap, Addressing::default())
            .await
            .unwrap();
        let finished = super::count_first_connection(&stack, 5001);
        let mut sender = kernel_sends();
        let (total, inbound) = finished.await.unwrap();
        assert_eq!(total, BYTES);
        let _ = sender.wait();

        let mut receiver = kernel_receives();
        let flow = loop {
            let peer = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 1), 5002);
            match stack.tcpv4().create_connection(peer).await {
                Ok(flow) => break flow,
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        };
        let chunk = vec![0u8; CHUNK];
        let start = Instant::now();
        for _ in 0..BYTES / CHUNK {
            flow.write(&chunk).await.unwrap();
        }
        flow.close().await.unwrap();
        while let Ok(Read::Data(_)) = flow.read().await {}
        let outbound = start.elapsed().as_secs_f64();
        let _ = receiver.wait();
        (inbound, outbound)
    })
}

/// The same with stock smoltcp: one interface on `tap0` through its own `TunTapInterface`,
/// one TCP socket each way, polled in a loop that sleeps in `phy::wait` until the device is
/// readable or smoltcp's next timer.
fn smoltcp() -> (f64, f64) {
    let mut device = TunTapInterface::new("tap0", Medium::Ethernet).unwrap();
    let fd = device.as_raw_fd();
    let config = Config::new(EthernetAddress([2, 0, 0, 0, 0, 9]).into());
    let mut iface = Interface::new(config, &mut device, SmolInstant::now());
    iface.update_ip_addrs(|addrs| {
        let _ = addrs.push(IpCidr::new(IpAddress::v4(10, 0, 0, 2), 24));
    });
    let mut sockets = SocketSet::new(vec![]);
    let socket = || {
        tcp::Socket::new(
            tcp::SocketBuffer::new(vec![0; BUFFER]),
            tcp::SocketBuffer::new(vec![0; BUFFER]),
        )
    };
    let mut step = |iface: &mut Interface, sockets: &mut SocketSet<'static>| {
        iface.poll(SmolInstant::now(), &mut device, sockets);
        let delay = iface.poll_delay(SmolInstant::now(), sockets);
        smoltcp::phy::wait(fd, delay).unwrap();
    };

    let server = sockets.add(socket());
    sockets.get_mut::<tcp::Socket>(server).listen(5001).unwrap();
    let mut sender = kernel_sends();
    let mut sink = vec![0u8; CHUNK];
    let (mut received, mut start) = (0, None);
    while received < BYTES {
        step(&mut iface, &mut sockets);
        let socket = sockets.get_mut::<tcp::Socket>(server);
        while socket.can_recv() {
            received += socket.recv_slice(&mut sink).unwrap();
            start.get_or_insert_with(Instant::now);
        }
    }
    let inbound = start.unwrap().elapsed().as_secs_f64();
    // netcat waits for this side to close too; the polls below finish that.
    sockets.get_mut::<tcp::Socket>(server).close();

    let mut receiver = kernel_receives();
    let client = sockets.add(socket());
    let connect = |sockets: &mut SocketSet<'static>, iface: &mut Interface| {
        sockets
            .get_mut::<tcp::Socket>(client)
            .connect(iface.context(), (IpAddress::v4(10, 0, 0, 1), 5002), 49_500)
            .unwrap();
    };
    connect(&mut sockets, &mut iface);
    // Until netcat listens: a refused connection is tried again.
    loop {
        step(&mut iface, &mut sockets);
        match sockets.get::<tcp::Socket>(client).state() {
            tcp::State::Established => break,
            tcp::State::Closed => {
                std::thread::sleep(Duration::from_millis(20));
                connect(&mut sockets, &mut iface);
            }
            _ => {}
        }
    }
    let chunk = vec![0u8; CHUNK];
    let mut sent = 0;
    let start = Instant::now();
    loop {
        let socket = sockets.get_mut::<tcp::Socket>(client);
        while sent < BYTES && socket.can_send() {
            sent += socket
                .send_slice(&chunk[..CHUNK.min(BYTES - sent)])
                .unwrap();
        }
        if sent == BYTES {
            socket.close();
        }
        // Done once netcat has taken it all and closed its side too.
        if matches!(socket.state(), tcp::State::TimeWait | tcp::State::Closed) {
            break;
        }
        step(&mut iface, &mut sockets);
    }
    let outbound = start.elapsed().as_secs_f64();
    let _ = receiver.wait();
    let _ = sender.wait();
    (inbound, outbound)
}

/// Gbit/s each way, ours and smoltcp's, medians of interleaved rounds.
pub struct Figures {
    /// The direct stack: kernel to stack, stack to kernel.
    pub ours: (f64, f64),
    /// Stock smoltcp on its `TunTapInterface`, the same ways (NaN when not run).
    pub smoltcp: (f64, f64),
}

/// The largest MTU Linux lets a tap device have (65535 is refused).
pub const LARGEST_MTU: usize = 65521;

/// The figures at `mtu` (stock smoltcp's only `with_baseline`, else NaN), or `None` if the
/// namespace cannot be made.
pub fn measure(mtu: usize, rounds: usize, with_baseline: bool) -> Option<Figures> {
    let gbits = |seconds: f64| BYTES as f64 * 8.0 / seconds / 1e9;
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        let order: [bool; 2] = if round % 2 == 0 {
            [true, false]
        } else {
            [false, true]
        };
        for is_ours in order.into_iter().filter(|&ours| ours || with_baseline) {
            let (inbound, outbound) =
                in_namespace(mtu, || if is_ours { direct() } else { smoltcp() })?;
            let figures = (gbits(inbound), gbits(outbound));
            if is_ours {
                ours.push(figures);
            } else {
                theirs.push(figures);
            }
        }
    }
    let median = |v: &[(f64, f64)], pick: fn(&(f64, f64)) -> f64| {
        let mut values: Vec<f64> = v.iter().map(pick).collect();
        values.sort_by(f64::total_cmp);
        values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
    };
    Some(Figures {
        ours: (median(&ours, |f| f.0), median(&ours, |f| f.1)),
        smoltcp: (median(&theirs, |f| f.0), median(&theirs, |f| f.1)),
    })
}
