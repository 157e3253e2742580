//! The direct stack under hostile input: random and mangled frames, a SYN flood, and a peer
//! that vanishes.

use mirage_net::{Addressing, DirectStack, MemLink};
use mirage_types::{Device, Flow, Ipv4Config, Network, Read, StackV4, Tcpv4};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use smoltcp::phy::ChecksumCapabilities;
use smoltcp::wire::{
    EthernetAddress, EthernetFrame, EthernetProtocol, EthernetRepr, IpProtocol, Ipv4Packet,
    Ipv4Repr, TcpControl, TcpPacket, TcpRepr, TcpSeqNumber,
};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

const A: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
const B: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 3);

fn run<F: std::future::Future>(future: F) -> F::Output {
    mirage_unix::run(future)
}

fn addressing(address: Ipv4Addr) -> Addressing {
    Addressing::Static(Ipv4Config::default().address(address))
}

async fn pair() -> (DirectStack<MemLink>, DirectStack<MemLink>) {
    let (a, b) = MemLink::pair();
    (
        DirectStack::connect(a, addressing(A)).await.unwrap(),
        DirectStack::connect(b, addressing(B)).await.unwrap(),
    )
}

/// An echo server on `stack`, port 7.
fn echo(stack: &DirectStack<MemLink>) {
    // Callbacks run while `listen` does.
    tokio::task::spawn_local({
        let stack = stack.clone();
        async move { stack.listen().await }
    });
    stack.listen_tcpv4(7, |flow| async move {
        while let Ok(Read::Data(data)) = flow.read().await {
            if flow.write(&data).await.is_err() {
                break;
            }
        }
        let _ = flow.close().await;
    });
}

/// Connects from `client` to the echo server at `server`, and checks one round trip.
async fn still_serves(client: &DirectStack<MemLink>, server: Ipv4Addr) {
    let flow = client
        .tcpv4()
        .create_connection(SocketAddrV4::new(server, 7))
        .await
        .expect("the stack stopped serving");
    flow.write(b"ping").await.unwrap();
    assert_eq!(flow.read().await.unwrap(), Read::Data("ping".into()));
}

/// A TCP SYN from `src:port` to `dst`:`dst_port`, as an Ethernet frame to `mac`.
fn syn(mac: [u8; 6], src: Ipv4Addr, port: u16, dst: Ipv4Addr, dst_port: u16) -> Vec<u8> {
    let tcp = TcpRepr {
        src_port: port,
        dst_port,
        control: TcpControl::Syn,
        seq_number: TcpSeqNumber(port as i32 * 7919),
        ack_number: None,
        window_len: 64_240,
        window_scale: None,
        max_seg_size: Some(1460),
        sack_permitted: false,
        sack_ranges: [None; 3],
        timestamp: None,
        payload: &[],
    };
    let ip = Ipv4Repr {
        src_addr: src,
        dst_addr: dst,
        next_header: IpProtocol::Tcp,
        payload_len: tcp.buffer_len(),
        hop_limit: 64,
    };
    let ethernet = EthernetRepr {
        src_addr: EthernetAddress([2, 0, 0, 0, 0, 9]),
        dst_addr: EthernetAddress(mac),
        ethertype: EthernetProtocol::Ipv4,
    };
    let mut frame = vec![0u8; ethernet.buffer_len() + ip.buffer_len() + tcp.buffer_len()];
    let checksums = ChecksumCapabilities::default();
    ethernet.emit(&mut EthernetFrame::new_unchecked(&mut frame[..]));
    ip.emit(&mut Ipv4Packet::new_unchecked(&mut frame[14..]), &checksums);
    tcp.emit(
        &mut TcpPacket::new_unchecked(&mut frame[34..]),
        &src.into(),
        &dst.into(),
        &checksums,
    );
    frame
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn random_and_mangled_frames_never_stop_the_stack(seed in any::<u64>()) {
        run(async move {
            let (a, b) = pair().await;
            echo(&a);
            let mac = a.mac().0;
            let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
            for i in 0..300u16 {
                let mut frame = if rng.random_bool(0.5) {
                    let len = rng.random_range(14..=1514);
                    let mut junk = vec![0u8; len];
                    rng.fill(&mut junk[..]);
                    junk[..6].copy_from_slice(&mac);
                    junk
                } else {
                    syn(mac, B, 1000 + i, A, 7)
                };
                // Mangle a few bytes past the Ethernet header, then maybe the length.
                for _ in 0..rng.random_range(0..4) {
                    if frame.len() > 14 {
                        let at = rng.random_range(14..frame.len());
                        frame[at] = rng.random();
                    }
                }
                if rng.random_bool(0.2) {
                    frame.truncate(rng.random_range(14..=frame.len()));
                }
                let _ = b.network().write(&frame).await;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
            still_serves(&b, A).await;
        });
    }
}

#[test]
fn a_syn_flood_does_not_stop_an_established_connection() {
    run(async {
        let (a, b) = pair().await;
        echo(&a);
        let flow = b
            .tcpv4()
            .create_connection(SocketAddrV4::new(A, 7))
            .await
            .unwrap();
        let mac = a.mac().0;
        for i in 0..10_000u32 {
            // From addresses off the link: the stack's answers go nowhere.
            let src = Ipv4Addr::new(192, 168, (i >> 8) as u8, i as u8);
            b.network()
                .write(&syn(mac, src, 1024 + (i % 60_000) as u16, A, 7))
                .await
                .unwrap();
            if i % 500 == 0 {
                flow.write(b"still there?").await.unwrap();
                assert_eq!(
                    flow.read().await.unwrap(),
                    Read::Data("still there?".into())
                );
            }
        }
        flow.write(b"after").await.unwrap();
        assert_eq!(flow.read().await.unwrap(), Read::Data("after".into()));
    });
}

/// CPU seconds this process has used.
fn cpu_seconds() -> f64 {
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `usage` is a valid rusage for the call to fill.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

#[test]
fn syns_held_while_every_socket_is_mid_handshake_cost_no_cpu_and_are_served_later() {
    run(async {
        let (a, b) = pair().await;
        echo(&a);
        let mac = a.mac().0;
        // From addresses off the link: the handshakes never finish, so every socket of the
        // port's pool stays mid-handshake and further SYNs are held back.
        for i in 0..300u16 {
            let src = Ipv4Addr::new(192, 168, 7, (i % 250) as u8 + 1);
            b.network()
                .write(&syn(mac, src, 2000 + i, A, 7))
                .await
                .unwrap();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        // Nothing can be taken now: the driver must wait, not poll in a loop.
        let before = cpu_seconds();
        tokio::time::sleep(Duration::from_secs(1)).await;
        let used = cpu_seconds() - before;
        assert!(used < 0.3, "{used} CPU seconds in a second of waiting");
        // Once the handshakes time out the port listens again, and a real client is served.
        let tcp = b.tcpv4();
        tokio::time::timeout(Duration::from_secs(30), async {
            loop {
                let attempt = tokio::time::timeout(
                    Duration::from_secs(2),
                    tcp.create_connection(SocketAddrV4::new(A, 7)),
                );
                if let Ok(Ok(flow)) = attempt.await {
                    flow.write(b"late").await.unwrap();
                    assert_eq!(flow.read().await.unwrap(), Read::Data("late".into()));
                    return;
                }
            }
        })
        .await
        .expect("the port never served again");
    });
}

/// A connection from `a` to port 9 of `b`, where each connection is held for `hold` without
/// being read, then dropped.
async fn connect_to_a_holder(
    a: &DirectStack<MemLink>,
    b: &DirectStack<MemLink>,
    hold: Duration,
) -> mirage_net::DirectFlow {
    // Callbacks run while `listen` does.
    tokio::task::spawn_local({
        let stack = b.clone();
        async move { stack.listen().await }
    });
    b.listen_tcpv4(9, move |flow| async move {
        tokio::time::sleep(hold).await;
        drop(flow);
    });
    a.tcpv4()
        .create_connection(SocketAddrV4::new(B, 9))
        .await
        .unwrap()
}

#[test]
fn a_peer_that_vanishes_ends_in_an_error_not_a_hang() {
    run(async {
        let (a, b) = pair().await;
        a.set_tcp_timeout(Duration::from_secs(2));
        let flow = connect_to_a_holder(&a, &b, Duration::from_secs(3600)).await;
        flow.write(b"hello").await.unwrap();
        b.disconnect().await; // the peer is gone: no more answers
        let writing = async {
            let chunk = vec![0u8; 64 * 1024];
            loop {
                if let Err(error) = flow.write(&chunk).await {
                    return error;
                }
            }
        };
        let error = tokio::time::timeout(Duration::from_secs(30), writing)
            .await
            .expect("the write hung");
        // As the socket stack reports a silent peer: a timeout, not a reset nobody sent.
        assert_eq!(error, mirage_types::TcpError::Timeout);
        assert_eq!(flow.read().await, Err(mirage_types::TcpError::Timeout));
    });
}

#[test]
fn a_peer_that_resets_ends_in_a_reset() {
    run(async {
        let (a, b) = pair().await;
        // Dropped with data unread: the stack resets the connection, as a kernel does.
        let flow = connect_to_a_holder(&a, &b, Duration::from_millis(100)).await;
        flow.write(b"unread").await.unwrap();
        let writing = async {
            loop {
                if let Err(error) = flow.write(b"more").await {
                    return error;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        };
        let error = tokio::time::timeout(Duration::from_secs(30), writing)
            .await
            .expect("the write hung");
        assert_eq!(error, mirage_types::TcpError::Reset);
    });
}

#[test]
fn a_peer_that_never_asked_our_address_is_answered_at_once() {
    // A DHCP server puts its client's address in its own table as it answers, and then
    // talks to the client without ARP: the client's first answer must not wait for (or be
    // lost to) its own ARP request.
    run(async {
        let (link, wire) = MemLink::pair();
        let stack = DirectStack::connect(link, addressing(A)).await.unwrap();
        echo(&stack);
        // The echo server's port is bound once its `listen` runs.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let seen = std::rc::Rc::new(std::cell::RefCell::new(Vec::<Vec<u8>>::new()));
        let record = seen.clone();
        let wire = std::rc::Rc::new(wire);
        let listening = wire.clone();
        tokio::task::spawn_local(async move {
            let _ = listening
                .listen(mirage_types::frame_handler_now(move |frame| {
                    record.borrow_mut().push(frame.to_vec())
                }))
                .await;
        });
        let peer = Ipv4Addr::new(10, 0, 0, 9);
        wire.write(&syn(stack.mac().0, peer, 4000, A, 7))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        let frames = seen.borrow();
        let syn_ack = frames.iter().any(|frame| {
            frame[..6] == [2, 0, 0, 0, 0, 9]
                && frame[12..14] == [8, 0]
                && frame.len() >= 54
                && frame[47] & 0x12 == 0x12
        });
        assert!(syn_ack, "no SYN-ACK to the peer in {:02x?}", *frames);
    });
}
