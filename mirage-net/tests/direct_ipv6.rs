//! The direct stack's IPv6 over an in-memory link: fixed, link-local and SLAAC addresses,
//! one port for both families, and hostile router advertisements and neighbour discovery.

use mirage_net::{Addressing, DirectStack, MemLink};
use mirage_types::{
    Device, Flow, Ipv4Config, Ipv6Config, Network, Read, StackV4, StackV4V6, TcpError, TcpFlow,
    TcpListener, TcpListenerV4V6, TcpV4V6, Tcpv4, UdpError, UdpListenerV4V6, UdpV4V6,
};
use rand::{Rng, SeedableRng};
use smoltcp::phy::ChecksumCapabilities;
use smoltcp::wire::{
    EthernetAddress, EthernetFrame, EthernetProtocol, EthernetRepr, Icmpv6Packet, Icmpv6Repr,
    IpProtocol, Ipv6Packet, Ipv6Repr, NdiscPrefixInfoFlags, NdiscPrefixInformation, NdiscRepr,
    NdiscRouterFlags, RawHardwareAddress,
};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

fn run<F: std::future::Future>(future: F) -> F::Output {
    mirage_unix::run(future)
}

fn v4(last: u8) -> Addressing {
    Addressing::Static(Ipv4Config::default().address(Ipv4Addr::new(10, 0, 0, last)))
}

fn fixed(address: &str) -> Ipv6Config {
    Ipv6Config::default()
        .addresses(vec![address.parse().unwrap()])
        .slaac(false)
}

/// Two stacks over one link, each with IPv4 and a fixed IPv6 address.
async fn pair() -> (DirectStack<MemLink>, DirectStack<MemLink>) {
    let (a, b) = MemLink::pair();
    let a = DirectStack::connect(a, v4(2)).await.unwrap();
    let b = DirectStack::connect(b, v4(3)).await.unwrap();
    a.enable_ipv6(fixed("fd00::2/64")).unwrap();
    b.enable_ipv6(fixed("fd00::3/64")).unwrap();
    // A second of duplicate address detection, both at once.
    futures::join!(a.ipv6_checked(), b.ipv6_checked());
    (a, b)
}

/// Echoes every connection to `listener`, forever.
fn echo<L: TcpListenerV4V6 + 'static>(listener: L) {
    tokio::task::spawn_local(async move {
        while let Ok(flow) = listener.accept().await {
            tokio::task::spawn_local(async move {
                while let Ok(Read::Data(data)) = flow.read().await {
                    if flow.write(&data).await.is_err() {
                        break;
                    }
                }
                let _ = flow.close().await;
            });
        }
    });
}

/// One round trip through the echo server at `server`.
async fn round_trip<S: StackV4V6>(client: &S, server: SocketAddr) -> Result<(), TcpError> {
    let flow = client.tcp().create_connection(server).await?;
    flow.write(b"ping").await?;
    assert_eq!(flow.read().await?, Read::Data("ping".into()));
    assert_eq!(flow.peer(), server);
    Ok(())
}

#[test]
fn tcp_and_udp_between_two_stacks_over_fixed_ipv6_addresses() {
    run(async {
        let (a, b) = pair().await;
        let listener = a.bind_tcp(80).await.unwrap();
        let server: SocketAddr = "[fd00::2]:80".parse().unwrap();
        let tcp = b.tcp();
        let (accepted, connected) =
            futures::join!(listener.accept(), tcp.create_connection(server));
        let (accepted, connected) = (accepted.unwrap(), connected.unwrap());
        assert_eq!(accepted.peer().ip(), "fd00::3".parse::<IpAddr>().unwrap());
        assert_eq!(accepted.get_dest().ip(), &Ipv4Addr::UNSPECIFIED);
        // More than a window's worth, to see segments sized for IPv6's larger header.
        let data: Vec<u8> = (0..1_000_000u32).map(|n| n as u8).collect();
        let sending = async {
            connected.write(&data).await.unwrap();
            connected.close().await.unwrap();
        };
        let receiving = async {
            let mut got = Vec::new();
            while let Ok(Read::Data(bytes)) = accepted.read().await {
                got.extend_from_slice(&bytes);
            }
            got
        };
        let ((), got) = futures::join!(sending, receiving);
        assert!(
            got == data,
            "{} of {} bytes, or altered",
            got.len(),
            data.len()
        );

        let port = a.bind_udp(53).await.unwrap();
        b.udp()
            .write(Some(5353), "[fd00::2]:53".parse().unwrap(), b"query")
            .await
            .unwrap();
        let datagram = port.recv().await.unwrap();
        assert_eq!(datagram.sender(), "[fd00::3]:5353".parse().unwrap());
        assert_eq!(datagram.dst, "fd00::2".parse::<IpAddr>().unwrap());
        let answers = b.bind_udp(5354).await.unwrap();
        port.send_to("[fd00::3]:5354".parse().unwrap(), b"answer")
            .await
            .unwrap();
        assert_eq!(&answers.recv().await.unwrap().data[..], b"answer");
    });
}

#[test]
fn link_local_addresses_need_no_configuration_and_are_listed() {
    run(async {
        let (a, b) = MemLink::pair();
        let a = DirectStack::connect(a, v4(2)).await.unwrap();
        let b = DirectStack::connect(b, v4(3)).await.unwrap();
        for stack in [&a, &b] {
            stack
                .enable_ipv6(Ipv6Config::default().slaac(false))
                .unwrap();
        }
        futures::join!(a.ipv6_checked(), b.ipv6_checked());
        // 02:00:00:00:00:01 -> fe80::ff:fe00:1 (the universal/local bit flipped).
        let listed: Vec<String> = a.configured_ips().iter().map(|c| c.to_string()).collect();
        assert_eq!(listed, ["10.0.0.2/24", "fe80::ff:fe00:1/64"]);
        echo(a.bind_tcp(7).await.unwrap());
        round_trip(&b, "[fe80::ff:fe00:1]:7".parse().unwrap())
            .await
            .unwrap();
    });
}

#[test]
fn a_dual_port_serves_both_families_and_a_v1_port_refuses_ipv6() {
    run(async {
        let (a, b) = pair().await;
        echo(a.bind_tcp(7).await.unwrap());
        round_trip(&b, "10.0.0.2:7".parse().unwrap()).await.unwrap();
        round_trip(&b, "[fd00::2]:7".parse().unwrap())
            .await
            .unwrap();

        let v1 = a.bind_tcpv4(8).await.unwrap();
        let tcp = b.tcp();
        let refused = tcp.create_connection("[fd00::2]:8".parse().unwrap());
        let flow = refused.await;
        // The handshake completes in smoltcp; the stack then resets it.
        if let Ok(flow) = flow {
            assert!(matches!(flow.read().await, Err(_) | Ok(Read::Eof)));
        }
        // Only the IPv4 connection reaches the V1 listener's backlog.
        let tcpv4 = b.tcpv4();
        let (accepted, connected) = futures::join!(
            v1.accept(),
            tcpv4.create_connection("10.0.0.2:8".parse().unwrap())
        );
        connected.unwrap();
        let peer = accepted.unwrap().peer();
        assert_eq!(peer.ip(), IpAddr::V4(Ipv4Addr::new(10, 0, 0, 3)));
    });
}

#[test]
fn without_ipv6_the_dual_face_serves_ipv4_and_says_why_ipv6_fails() {
    run(async {
        let (a, b) = MemLink::pair();
        let a = DirectStack::connect(a, v4(2)).await.unwrap();
        let b = DirectStack::connect(b, v4(3)).await.unwrap();
        assert_eq!(a.configured_ips().len(), 1);
        echo(a.bind_tcp(7).await.unwrap());
        round_trip(&b, "10.0.0.2:7".parse().unwrap()).await.unwrap();
        let v6: SocketAddr = "[fd00::2]:7".parse().unwrap();
        let error = b.tcp().create_connection(v6).await.unwrap_err();
        assert!(error.to_string().contains("no IPv6"), "{error}");
        let error = b.udp().write(None, v6, b"x").await.unwrap_err();
        assert!(error.to_string().contains("no IPv6"), "{error}");
    });
}

#[test]
fn configurations_no_host_can_have_are_refused() {
    run(async {
        let (a, _b) = MemLink::pair();
        let a = DirectStack::connect(a, v4(2)).await.unwrap();
        for bad in ["ff02::1/64", "::1/128", "::/64"] {
            assert!(a.enable_ipv6(fixed(bad)).is_err(), "{bad}");
        }
        let many: Vec<_> = (1..=3)
            .map(|n| format!("fd00::{n}/64").parse().unwrap())
            .collect();
        let error = a
            .enable_ipv6(Ipv6Config::default().addresses(many))
            .unwrap_err();
        assert!(error.to_string().contains("at most 2"), "{error}");
        // Nothing was taken from the refused ones.
        assert_eq!(a.configured_ips().len(), 1);
    });
}

#[test]
fn ipv6_datagrams_beyond_one_packet_are_refused_with_a_clear_error() {
    run(async {
        let (a, _b) = pair().await;
        let to: SocketAddr = "[fd00::3]:9".parse().unwrap();
        let error = a.udp().write(None, to, &[0; 1500]).await.unwrap_err();
        assert!(matches!(error, UdpError::TooLong(1500)), "{error}");
        a.udp().write(None, to, &[0; 1452]).await.unwrap();
    });
}

/// A router's link-local address and MAC.
const ROUTER_MAC: [u8; 6] = [2, 0, 0, 0, 0, 0xee];

/// A router advertisement from `router` (link-local) for `prefix`/64 with SLAAC allowed,
/// as an Ethernet frame to all nodes; `lifetime` for the default route and the prefix.
fn router_advert(router: Ipv6Addr, prefix: Ipv6Addr, lifetime: u64) -> Vec<u8> {
    let ndisc = NdiscRepr::RouterAdvert {
        hop_limit: 64,
        flags: NdiscRouterFlags::empty(),
        router_lifetime: smoltcp::time::Duration::from_secs(lifetime),
        reachable_time: smoltcp::time::Duration::ZERO,
        retrans_time: smoltcp::time::Duration::ZERO,
        lladdr: Some(RawHardwareAddress::from_bytes(&ROUTER_MAC)),
        mtu: None,
        prefix_info: Some(NdiscPrefixInformation {
            prefix_len: 64,
            flags: NdiscPrefixInfoFlags::ON_LINK | NdiscPrefixInfoFlags::ADDRCONF,
            valid_lifetime: smoltcp::time::Duration::from_secs(lifetime),
            preferred_lifetime: smoltcp::time::Duration::from_secs(lifetime),
            prefix,
        }),
    };
    icmpv6_frame(
        router,
        "ff02::1".parse().unwrap(),
        &Icmpv6Repr::Ndisc(ndisc),
    )
}

/// `icmp` from `src` to `dst` (hop limit 255, as neighbour discovery needs), in a frame to
/// the all-nodes multicast MAC.
fn icmpv6_frame(src: Ipv6Addr, dst: Ipv6Addr, icmp: &Icmpv6Repr) -> Vec<u8> {
    let ip = Ipv6Repr {
        src_addr: src,
        dst_addr: dst,
        next_header: IpProtocol::Icmpv6,
        payload_len: icmp.buffer_len(),
        hop_limit: 255,
    };
    let ethernet = EthernetRepr {
        src_addr: EthernetAddress(ROUTER_MAC),
        dst_addr: EthernetAddress([0x33, 0x33, 0, 0, 0, 1]),
        ethertype: EthernetProtocol::Ipv6,
    };
    let mut frame = vec![0; ethernet.buffer_len() + ip.buffer_len() + icmp.buffer_len()];
    let mut eth = EthernetFrame::new_unchecked(&mut frame[..]);
    ethernet.emit(&mut eth);
    let mut packet = Ipv6Packet::new_unchecked(eth.payload_mut());
    ip.emit(&mut packet);
    let mut message = Icmpv6Packet::new_unchecked(packet.payload_mut());
    icmp.emit(&src, &dst, &mut message, &ChecksumCapabilities::default());
    frame
}

/// Waits up to five seconds for `stack` to hold an address that `wanted` accepts.
async fn address_appears(stack: &DirectStack<MemLink>, wanted: impl Fn(IpAddr) -> bool) -> bool {
    for _ in 0..100 {
        if stack.configured_ips().iter().any(|c| wanted(c.address())) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[test]
fn slaac_takes_an_address_from_a_router_advertisement_and_serves_on_it() {
    run(async {
        let (a, b) = MemLink::pair();
        let a = DirectStack::connect(a, v4(2)).await.unwrap();
        let b = DirectStack::connect(b, v4(3)).await.unwrap();
        a.enable_ipv6(Ipv6Config::default()).unwrap();
        b.enable_ipv6(fixed("2001:db8::3/64")).unwrap();
        // SLAAC starts once the link-local address passed its check.
        futures::join!(a.ipv6_checked(), b.ipv6_checked());
        let router: Ipv6Addr = "fe80::ee".parse().unwrap();
        let advert = router_advert(router, "2001:db8::".parse().unwrap(), 600);
        b.network().write(&advert).await.unwrap();
        let slaac: IpAddr = "2001:db8::ff:fe00:1".parse().unwrap();
        assert!(address_appears(&a, |ip| ip == slaac).await);
        echo(a.bind_tcp(7).await.unwrap());
        round_trip(&b, SocketAddr::new(slaac, 7)).await.unwrap();
        // A router that withdraws the prefix (lifetime 0) takes the address away.
        let withdraw = router_advert(router, "2001:db8::".parse().unwrap(), 0);
        b.network().write(&withdraw).await.unwrap();
        assert!(address_appears(&a, |_| true).await);
        for _ in 0..100 {
            if !a.configured_ips().iter().any(|c| c.address() == slaac) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(!a.configured_ips().iter().any(|c| c.address() == slaac));
    });
}

#[test]
fn a_flood_of_router_advertisements_from_everywhere_stays_bounded() {
    run(async {
        let (a, b) = pair().await;
        a.enable_ipv6(Ipv6Config::default().addresses(vec!["fd00::2/64".parse().unwrap()]))
            .unwrap();
        a.ipv6_checked().await;
        echo(a.bind_tcp(7).await.unwrap());
        for n in 0..5_000u32 {
            let router = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, (n >> 16) as u16, n as u16);
            let prefix = Ipv6Addr::new(0x2001, 0xdb8, (n >> 16) as u16, n as u16, 0, 0, 0, 0);
            b.network()
                .write(&router_advert(router, prefix, 9_000))
                .await
                .unwrap();
            if n % 500 == 0 {
                tokio::task::yield_now().await;
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        let addresses = a.configured_ips();
        // IPv4, link-local, the fixed one, and SLAAC's at most four.
        assert!(addresses.len() <= 7, "{addresses:?}");
        assert!(addresses.iter().any(|c| c.to_string() == "fd00::2/64"));
        round_trip(&b, "[fd00::2]:7".parse().unwrap())
            .await
            .unwrap();
        round_trip(&b, "10.0.0.2:7".parse().unwrap()).await.unwrap();
    });
}

#[test]
fn mangled_neighbour_discovery_never_panics_and_the_stack_serves_on() {
    run(async {
        let (a, b) = pair().await;
        echo(a.bind_tcp(7).await.unwrap());
        let router: Ipv6Addr = "fe80::ee".parse().unwrap();
        let target: Ipv6Addr = "fd00::2".parse().unwrap();
        let solicit = icmpv6_frame(
            router,
            "ff02::1:ff00:2".parse().unwrap(),
            &Icmpv6Repr::Ndisc(NdiscRepr::NeighborSolicit {
                target_addr: target,
                lladdr: Some(RawHardwareAddress::from_bytes(&ROUTER_MAC)),
            }),
        );
        let advert = router_advert(router, "2001:db8::".parse().unwrap(), 600);
        let mut rng = rand::rngs::StdRng::seed_from_u64(6);
        for n in 0..20_000 {
            let mut frame = if n % 2 == 0 {
                solicit.clone()
            } else {
                advert.clone()
            };
            match n % 4 {
                // Random bytes past the Ethernet header.
                0 => {
                    for _ in 0..rng.random_range(1..8) {
                        let at = rng.random_range(14..frame.len());
                        frame[at] = rng.random();
                    }
                }
                // An option whose length is zero or runs past the end.
                1 => {
                    let last = frame.len() - 7;
                    frame[last] = if rng.random_bool(0.5) { 0 } else { 255 };
                }
                // Cut short anywhere.
                2 => frame.truncate(rng.random_range(14..frame.len())),
                // Extension headers: hop-by-hop, routing or fragment, chained.
                _ => {
                    frame[14 + 6] = [0, 43, 44, 60][rng.random_range(0..4)];
                }
            }
            let _ = b.network().write(&frame).await;
            if n % 1000 == 0 {
                tokio::task::yield_now().await;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(a.configured_ips().len() <= 7);
        round_trip(&b, "[fd00::2]:7".parse().unwrap())
            .await
            .unwrap();
        round_trip(&b, "10.0.0.2:7".parse().unwrap()).await.unwrap();
    });
}

#[test]
fn the_stack_pings_over_both_families_and_says_when_nothing_answers() {
    run(async {
        let (a, b) = pair().await;
        let ping = a.ping();
        for (seq, dst) in ["fd00::3", "10.0.0.3", "fe80::ff:fe00:2"]
            .into_iter()
            .enumerate()
        {
            let dst: IpAddr = dst.parse().unwrap();
            let rtt = ping
                .echo(dst, seq as u16, &[0x5a; 56], Duration::from_secs(2))
                .await
                .unwrap();
            assert!(rtt.is_some(), "{dst} answers");
        }
        // Nobody has fd00::99: no answer within the wait.
        let none = ping
            .echo(
                "fd00::99".parse().unwrap(),
                9,
                b"x",
                Duration::from_millis(300),
            )
            .await
            .unwrap();
        assert_eq!(none, None);
        // Too large for one IPv6 packet.
        let error = ping
            .echo(
                "fd00::3".parse().unwrap(),
                10,
                &[0; 1500],
                Duration::from_secs(1),
            )
            .await
            .unwrap_err();
        assert!(error.to_string().contains("does not fit"), "{error}");
        // A stack without IPv6 says so.
        let (c, _d) = MemLink::pair();
        let c = DirectStack::connect(c, v4(4)).await.unwrap();
        let error = c
            .ping()
            .echo("fd00::3".parse().unwrap(), 1, b"x", Duration::from_secs(1))
            .await
            .unwrap_err();
        assert!(error.to_string().contains("no IPv6"), "{error}");
        drop(b);
    });
}

/// An IPv6 packet from fd00::3 to fd00::2 with next header `next` and `payload`, in a frame
/// from the second MemLink end to the first (02:..:01).
fn ipv6_frame(next: u8, payload: &[u8]) -> Vec<u8> {
    let mut frame = vec![2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x86, 0xdd];
    frame.extend_from_slice(&[0x60, 0, 0, 0]);
    frame.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    frame.extend_from_slice(&[next, 64]);
    frame.extend_from_slice(&"fd00::3".parse::<Ipv6Addr>().unwrap().octets());
    frame.extend_from_slice(&"fd00::2".parse::<Ipv6Addr>().unwrap().octets());
    frame.extend_from_slice(payload);
    frame
}

/// A UDP datagram from fd00::3:`src_port` to fd00::2:`dst_port`, checksum filled in.
fn udp6(src_port: u16, dst_port: u16, data: &[u8]) -> Vec<u8> {
    let mut bytes = vec![0; 8 + data.len()];
    let mut packet = smoltcp::wire::UdpPacket::new_unchecked(&mut bytes[..]);
    smoltcp::wire::UdpRepr { src_port, dst_port }.emit(
        &mut packet,
        &"fd00::3".parse::<Ipv6Addr>().unwrap().into(),
        &"fd00::2".parse::<Ipv6Addr>().unwrap().into(),
        data.len(),
        |payload| payload.copy_from_slice(data),
        &ChecksumCapabilities::default(),
    );
    bytes
}

/// The fragment of `packet` (an upper-layer packet, `next` its protocol) at byte `offset`
/// (a multiple of 8), `len` bytes, of datagram `id`.
fn fragment(next: u8, packet: &[u8], id: u32, offset: usize, len: usize) -> Vec<u8> {
    let end = (offset + len).min(packet.len());
    let more = u16::from(end < packet.len());
    let mut payload = vec![next, 0];
    payload.extend_from_slice(&((offset as u16) | more).to_be_bytes());
    payload.extend_from_slice(&id.to_be_bytes());
    payload.extend_from_slice(&packet[offset..end]);
    ipv6_frame(44, &payload)
}

#[test]
fn fragments_are_reassembled_and_floods_of_them_and_header_chains_stay_bounded() {
    run(async {
        let (a, b) = pair().await;
        echo(a.bind_tcp(7).await.unwrap());
        let port = a.bind_udp(53).await.unwrap();
        let wire = b.network();
        // Let `a` learn `b`'s MAC address, for its answers.
        round_trip(&b, "[fd00::2]:7".parse().unwrap())
            .await
            .unwrap();

        // A 3,000-byte datagram in three fragments, the last first: reassembled.
        let data: Vec<u8> = (0..3000u32).map(|n| (n * 7) as u8).collect();
        let datagram = udp6(4000, 53, &data);
        for offset in [2400, 0, 1200] {
            wire.write(&fragment(17, &datagram, 1, offset, 1200))
                .await
                .unwrap();
        }
        let got = tokio::time::timeout(Duration::from_secs(5), port.recv())
            .await
            .expect("the reassembled datagram")
            .unwrap();
        assert_eq!(
            (got.sender(), &got.data[..]),
            ("[fd00::3]:4000".parse().unwrap(), &data[..])
        );

        // 10,000 first fragments that never complete, each a datagram of its own: the
        // stack keeps four reassembly buffers and serves on.
        for id in 0..10_000u32 {
            let big = udp6(4001, 53, &[0; 1600]);
            wire.write(&fragment(17, &big, 100 + id, 0, 1200))
                .await
                .unwrap();
            if id % 500 == 0 {
                tokio::task::yield_now().await;
            }
        }
        // Chains of extension headers (hop-by-hop, destination options, routing), long
        // and cut short, before UDP and before nothing.
        for length in [1, 2, 50, 150] {
            for kind in [0u8, 60, 43] {
                let mut chain = Vec::new();
                for n in 0..length {
                    let next = if n + 1 == length { 17 } else { kind };
                    chain.extend_from_slice(&[next, 0, 1, 4, 0, 0, 0, 0]);
                }
                chain.extend_from_slice(&udp6(4002, 53, b"chained"));
                wire.write(&ipv6_frame(kind, &chain)).await.unwrap();
                wire.write(&ipv6_frame(kind, &chain[..chain.len() / 2]))
                    .await
                    .unwrap();
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        // Whatever the chains did, the stack still takes datagrams and connections.
        wire.write(&ipv6_frame(17, &udp6(4003, 53, b"after")))
            .await
            .unwrap();
        loop {
            let datagram = port.recv().await.unwrap();
            if datagram.src_port == 4003 {
                assert_eq!(&datagram.data[..], b"after");
                break;
            }
        }
        round_trip(&b, "[fd00::2]:7".parse().unwrap())
            .await
            .unwrap();
    });
}

#[test]
fn callbacks_serve_both_families_and_stop_with_the_stack() {
    run(async {
        let (a, b) = pair().await;
        a.listen_tcp(7, |flow| async move {
            let _ = flow.write(flow.peer().ip().to_string().as_bytes()).await;
            let _ = flow.close().await;
        });
        let sender = a.udp();
        a.listen_udp(53, move |datagram| {
            let sender = sender.clone();
            async move {
                let _ = sender
                    .write(Some(53), datagram.sender(), &datagram.data)
                    .await;
            }
        });
        let serving = tokio::task::spawn_local({
            let a = a.clone();
            async move { a.listen_v4v6().await }
        });
        for (server, client) in [("[fd00::2]:7", "fd00::3"), ("10.0.0.2:7", "10.0.0.3")] {
            let flow = b
                .tcp()
                .create_connection(server.parse().unwrap())
                .await
                .unwrap();
            let mut got = Vec::new();
            while let Ok(Read::Data(bytes)) = flow.read().await {
                got.extend_from_slice(&bytes);
            }
            assert_eq!(String::from_utf8(got).unwrap(), client);
        }
        let answers = b.bind_udp(5353).await.unwrap();
        b.udp()
            .write(Some(5353), "[fd00::2]:53".parse().unwrap(), b"echo")
            .await
            .unwrap();
        let answer = answers.recv().await.unwrap();
        assert_eq!(
            (answer.sender(), &answer.data[..]),
            ("[fd00::2]:53".parse().unwrap(), &b"echo"[..])
        );
        a.disconnect().await;
        assert!(serving.await.unwrap().is_ok());
    });
}

#[test]
fn an_address_another_stack_holds_or_probes_for_is_not_taken() {
    run(async {
        let (a, b) = pair().await;
        let (fd2, fd3): (Ipv6Addr, Ipv6Addr) =
            ("fd00::2".parse().unwrap(), "fd00::3".parse().unwrap());
        echo(a.bind_tcp(7).await.unwrap());
        // b asks for a's address beside its own: a answers b's probe for it.
        let both = vec!["fd00::3/64".parse().unwrap(), "fd00::2/64".parse().unwrap()];
        b.enable_ipv6(Ipv6Config::default().addresses(both).slaac(false))
            .unwrap();
        assert_eq!(b.tentative_ipv6().len(), 3, "{:?}", b.tentative_ipv6());
        assert!(b.ip_addresses().iter().all(|c| c.address().is_ipv4()));
        b.ipv6_checked().await;
        assert_eq!(b.duplicate_ipv6(), [fd2]);
        let held: Vec<IpAddr> = b.ip_addresses().iter().map(|c| c.address()).collect();
        assert!(
            held.contains(&fd3.into()) && !held.contains(&fd2.into()),
            "{held:?}"
        );
        // a still has it, and b reaches a on it.
        round_trip(&b, "[fd00::2]:7".parse().unwrap())
            .await
            .unwrap();

        // Two stacks checking one address at the same time each see the other's probe:
        // neither takes it.
        let contested = || Ipv6Config::default().addresses(vec!["fd00::9/64".parse().unwrap()]);
        a.enable_ipv6(contested().slaac(false)).unwrap();
        b.enable_ipv6(contested().slaac(false)).unwrap();
        futures::join!(a.ipv6_checked(), b.ipv6_checked());
        let fd9: Ipv6Addr = "fd00::9".parse().unwrap();
        for stack in [&a, &b] {
            assert!(stack.duplicate_ipv6().contains(&fd9));
            assert!(
                stack
                    .ip_addresses()
                    .iter()
                    .all(|c| c.address() != IpAddr::V6(fd9))
            );
        }
    });
}

#[test]
fn slaac_addresses_are_checked_before_use_and_without_checks_addresses_come_at_once() {
    run(async {
        let (a, b) = MemLink::pair();
        let a = DirectStack::connect(a, v4(2)).await.unwrap();
        let b = DirectStack::connect(b, v4(3)).await.unwrap();
        // No checks: the link-local address is there at once.
        a.enable_ipv6(Ipv6Config::default().dad_transmits(0))
            .unwrap();
        assert_eq!(a.ip_addresses().len(), 2);
        assert!(a.tentative_ipv6().is_empty());
        // Three probes: SLAAC waits the three seconds of the link-local address's.
        a.enable_ipv6(Ipv6Config::default().dad_transmits(3))
            .unwrap();
        b.enable_ipv6(fixed("2001:db8::3/64").dad_transmits(0))
            .unwrap();
        let advert = router_advert(
            "fe80::ee".parse().unwrap(),
            "2001:db8::".parse().unwrap(),
            600,
        );
        let started = std::time::Instant::now();
        a.ipv6_checked().await;
        assert!(started.elapsed() >= Duration::from_millis(2900));
        b.network().write(&advert).await.unwrap();
        // The address SLAAC made is tentative first, then taken.
        let slaac: Ipv6Addr = "2001:db8::ff:fe00:1".parse().unwrap();
        let mut seen_tentative = false;
        for _ in 0..100 {
            seen_tentative |= a.tentative_ipv6().contains(&slaac);
            if !seen_tentative {
                b.network().write(&advert).await.unwrap();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
            if seen_tentative {
                break;
            }
        }
        assert!(seen_tentative, "{:?}", a.ip_addresses());
        a.ipv6_checked().await;
        assert!(address_appears(&a, |ip| ip == IpAddr::V6(slaac)).await);
    });
}

#[test]
fn a_flood_of_probes_for_our_address_is_answered_in_bounds_and_the_stack_keeps_it() {
    run(async {
        let (a, b) = pair().await;
        echo(a.bind_tcp(7).await.unwrap());
        let ours: Ipv6Addr = "fd00::2".parse().unwrap();
        let probe = icmpv6_frame(
            Ipv6Addr::UNSPECIFIED,
            "ff02::1:ff00:2".parse().unwrap(),
            &Icmpv6Repr::Ndisc(NdiscRepr::NeighborSolicit {
                target_addr: ours,
                lladdr: None,
            }),
        );
        for _ in 0..20_000 {
            b.network().write(&probe).await.unwrap();
        }
        assert!(a.duplicate_ipv6().is_empty());
        assert!(
            a.ip_addresses()
                .iter()
                .any(|c| c.address() == IpAddr::V6(ours))
        );
        round_trip(&b, "[fd00::2]:7".parse().unwrap())
            .await
            .unwrap();
    });
}
