//! Two direct stacks over the in-memory link.

use mirage_net::{Addressing, DirectStack, LinkFaults, MemLink};
use mirage_types::{
    Device, Flow, Ipv4, Ipv4Config, Network, Read, StackV4, TcpError, TcpListener, Tcpv4,
    UdpDatagram, Udpv4,
};
use std::cell::RefCell;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::rc::Rc;
use std::time::Duration;

fn run<F: std::future::Future>(future: F) -> F::Output {
    mirage_unix::run(future)
}

fn config(last: u8) -> Addressing {
    Addressing::Static(Ipv4Config::new(
        Ipv4Addr::new(10, 0, 0, last),
        Ipv4Addr::new(255, 255, 255, 0),
        vec![Ipv4Addr::new(10, 0, 0, 1)],
    ))
}

async fn pair(faults: LinkFaults) -> (DirectStack<MemLink>, DirectStack<MemLink>) {
    let (a, b) = MemLink::pair_with(faults);
    let a = DirectStack::connect(a, config(2)).await.unwrap();
    let b = DirectStack::connect(b, config(3)).await.unwrap();
    (a, b)
}

const B: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 3);

/// Sockets a stack keeps listening on one port.
const LISTEN_POOL: usize = 1;

#[test]
fn udp_both_ways_and_the_ipv4_view() {
    run(async {
        let (a, b) = pair(LinkFaults::default()).await;
        assert_eq!(a.ipv4().get_ip(), [Ipv4Addr::new(10, 0, 0, 2)]);
        assert_eq!(
            a.ipv4().get_ip_netmasks(),
            [Ipv4Addr::new(255, 255, 255, 0)]
        );
        assert_eq!(a.ipv4().get_ip_gateways(), [Ipv4Addr::new(10, 0, 0, 1)]);
        let seen: Rc<RefCell<Vec<UdpDatagram>>> = Rc::default();
        let record = seen.clone();
        let udp = b.udpv4();
        // Callbacks run while `listen` does.
        tokio::task::spawn_local({
            let stack = b.clone();
            async move { stack.listen().await }
        });
        b.listen_udpv4(53, move |datagram| {
            let (record, udp) = (record.clone(), udp.clone());
            async move {
                udp.write(Some(53), datagram.src, datagram.src_port, b"answer")
                    .await
                    .unwrap();
                record.borrow_mut().push(datagram);
            }
        });
        let answers: Rc<RefCell<Vec<UdpDatagram>>> = Rc::default();
        let record = answers.clone();
        // Callbacks run while `listen` does.
        tokio::task::spawn_local({
            let stack = a.clone();
            async move { stack.listen().await }
        });
        a.listen_udpv4(5353, move |datagram| {
            record.borrow_mut().push(datagram);
            async {}
        });
        a.udpv4()
            .write(Some(5353), B, 53, b"question")
            .await
            .unwrap();
        for _ in 0..200 {
            if !answers.borrow().is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let question = seen.borrow()[0].clone();
        assert_eq!(
            (
                question.src,
                question.src_port,
                question.dst,
                question.dst_port
            ),
            (Ipv4Addr::new(10, 0, 0, 2), 5353, B, 53)
        );
        assert_eq!(question.data, "question");
        assert_eq!(answers.borrow()[0].data, "answer");
        assert_eq!(answers.borrow()[0].src_port, 53);
        a.ipv4().set_ip(Ipv4Addr::new(10, 0, 0, 9)).await.unwrap();
        assert_eq!(a.ipv4().get_ip(), [Ipv4Addr::new(10, 0, 0, 9)]);
        a.disconnect().await;
        b.disconnect().await;
    });
}

#[test]
fn tcp_connections_refusals_and_many_at_once() {
    run(async {
        let (a, b) = pair(LinkFaults::default()).await;
        // Callbacks run while `listen` does.
        tokio::task::spawn_local({
            let stack = b.clone();
            async move { stack.listen().await }
        });
        b.listen_tcpv4(8080, |flow| async move {
            let mut got = Vec::new();
            while let Ok(Read::Data(data)) = flow.read().await {
                got.extend_from_slice(&data);
            }
            flow.write(&got).await.unwrap();
            flow.close().await.unwrap();
        });
        assert_eq!(
            a.tcpv4()
                .create_connection(SocketAddrV4::new(B, 9))
                .await
                .unwrap_err(),
            TcpError::Refused
        );
        let clients = (0..40).map(|i| {
            let tcp = a.tcpv4();
            tokio::task::spawn_local(async move {
                let flow = tcp
                    .create_connection(SocketAddrV4::new(B, 8080))
                    .await
                    .unwrap();
                let message = format!("client {i}");
                flow.write(message.as_bytes()).await.unwrap();
                flow.close().await.unwrap();
                let mut echoed = Vec::new();
                while let Read::Data(data) = flow.read().await.unwrap() {
                    echoed.extend_from_slice(&data);
                }
                assert_eq!(echoed, message.as_bytes());
            })
        });
        for client in clients.collect::<Vec<_>>() {
            client.await.unwrap();
        }
        // Every closed connection's socket is freed again, on both sides.
        let (idle_a, idle_b) = (0, LISTEN_POOL);
        for _ in 0..200 {
            if a.socket_count() == idle_a && b.socket_count() == idle_b {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!((a.socket_count(), b.socket_count()), (idle_a, idle_b));
        a.disconnect().await;
        b.disconnect().await;
    });
}

/// Moves `bytes` from a to b over a lossy link and checks them.
async fn transfer(a: &DirectStack<MemLink>, b: &DirectStack<MemLink>, bytes: usize) {
    let received: Rc<RefCell<Vec<u8>>> = Rc::default();
    let sink = received.clone();
    let done = Rc::new(tokio::sync::Notify::new());
    let signal = done.clone();
    // Callbacks run while `listen` does.
    tokio::task::spawn_local({
        let stack = b.clone();
        async move { stack.listen().await }
    });
    b.listen_tcpv4(7000, move |flow| {
        let (sink, signal) = (sink.clone(), signal.clone());
        async move {
            while let Ok(Read::Data(data)) = flow.read().await {
                sink.borrow_mut().extend_from_slice(&data);
            }
            signal.notify_one();
        }
    });
    let data: Vec<u8> = (0..bytes).map(|i| (i * 7 % 251) as u8).collect();
    let flow = a
        .tcpv4()
        .create_connection(SocketAddrV4::new(B, 7000))
        .await
        .unwrap();
    for chunk in data.chunks(64 * 1024) {
        flow.write(chunk).await.unwrap();
    }
    flow.close().await.unwrap();
    tokio::time::timeout(Duration::from_secs(120), done.notified())
        .await
        .expect("transfer stalled");
    assert!(*received.borrow() == data, "data differs");
}

#[test]
fn ten_mib_intact_over_a_lossy_link() {
    run(async {
        let faults = LinkFaults::default().loss(0.01).corruption(0.0).seed(7);
        let (a, b) = pair(faults).await;
        transfer(&a, &b, 10 << 20).await;
        assert!(a.network().get_stats_counters().tx_pkts > 1000);
    });
}

#[test]
fn arp_resolves_over_the_wire_and_times_out_and_ethif_writes_frames() {
    use mirage_types::{Arp, ArpError, Ethif};
    run(async {
        let (a, b) = pair(LinkFaults::default()).await;
        let arp = a.arp();
        assert_eq!(arp.get_ips(), [Ipv4Addr::new(10, 0, 0, 2)]);
        assert_eq!(arp.query(B).await.unwrap(), b.mac());
        assert_eq!(
            arp.query(Ipv4Addr::new(10, 0, 0, 2)).await.unwrap(),
            a.mac()
        );
        let start = tokio::time::Instant::now();
        assert_eq!(
            arp.query(Ipv4Addr::new(10, 0, 0, 99)).await,
            Err(ArpError::Timeout(Ipv4Addr::new(10, 0, 0, 99)))
        );
        assert!(start.elapsed() >= Duration::from_secs(3));
        // Moving the address is announced, and the stack answers on the new one.
        arp.set_ips(vec![Ipv4Addr::new(10, 0, 0, 20)])
            .await
            .unwrap();
        assert_eq!(a.ipv4().get_ip(), [Ipv4Addr::new(10, 0, 0, 20)]);
        assert_eq!(
            b.arp().query(Ipv4Addr::new(10, 0, 0, 20)).await.unwrap(),
            a.mac()
        );

        let ethif = a.ethif();
        assert_eq!(ethif.mac(), a.mac());
        let before = b.network().get_stats_counters().rx_pkts;
        let mut frame = vec![0u8; 60];
        frame[..6].copy_from_slice(&b.mac().0);
        frame[12..14].copy_from_slice(&0x88b5u16.to_be_bytes()); // local experimental
        ethif.write(&frame).await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(b.network().get_stats_counters().rx_pkts, before + 1);
    });
}

#[test]
fn addresses_no_host_can_have_are_refused_not_panicked_on() {
    run(async {
        for bad in ["224.0.0.1", "255.255.255.255", "0.0.0.0"] {
            let (link, _) = MemLink::pair();
            let config = Ipv4Config::default().address(bad.parse().unwrap());
            let error = DirectStack::connect(link, Addressing::Static(config))
                .await
                .err()
                .expect("refused");
            assert_eq!(
                error.kind(),
                mirage_types::ErrorKind::InvalidInput,
                "{bad}: {error}"
            );
        }
        let (a, _b) = pair(LinkFaults::default()).await;
        for bad in ["224.0.0.1", "255.255.255.255"] {
            let error = a.ipv4().set_ip(bad.parse().unwrap()).await.unwrap_err();
            assert!(error.to_string().contains(bad), "{error}");
        }
        let error = a
            .ipv4()
            .set_ip_netmask(Ipv4Addr::new(255, 0, 255, 0))
            .await
            .unwrap_err();
        assert!(error.to_string().contains("netmask"), "{error}");
        // Still the old address, still working.
        assert_eq!(a.ipv4().get_ip(), [Ipv4Addr::new(10, 0, 0, 2)]);
    });
}

#[test]
fn flows_the_application_drops_are_freed_while_their_peers_stay_up() {
    run(async {
        let (a, b) = pair(LinkFaults::default()).await;
        let listener = b.bind_tcpv4(9100).await.unwrap();
        let baseline = b.socket_count();
        let tcp = a.tcpv4();
        let mut clients = Vec::new();
        for n in 0..40 {
            let (accepted, connected) = futures::join!(
                listener.accept(),
                tcp.create_connection(SocketAddrV4::new(B, 9100))
            );
            let client = connected.unwrap();
            if n % 2 == 0 {
                // Half the peers keep sending after the server dropped the flow.
                client.write(b"data").await.unwrap();
            }
            drop(accepted.unwrap());
            clients.push(client);
        }
        for (n, client) in clients.iter().enumerate() {
            if n % 2 == 0 {
                let _ = client.write(&[0; 64 * 1024]).await;
            }
        }
        // Peers that send are reset at once; silent ones after the linger (5 s).
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while b.socket_count() > baseline {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{} sockets still held (baseline {baseline})",
                b.socket_count()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // The clients are still open on their side (their peers were reset, not them).
        assert_eq!(clients.len(), 40);
    });
}

/// A burst of connections larger than the SYN backlog in front of the one listening socket:
/// every connection is served (SYNs dropped beyond the backlog are sent again by the peer).
#[test]
fn a_burst_of_connections_beyond_the_syn_backlog_is_served() {
    run(async {
        let (a, b) = pair(LinkFaults::default()).await;
        let listener = b.bind_tcpv4(8081).await.unwrap();
        tokio::task::spawn_local(async move {
            while let Ok(flow) = listener.accept().await {
                tokio::task::spawn_local(async move {
                    while let Ok(Read::Data(data)) = flow.read().await {
                        flow.write(&data).await.unwrap();
                    }
                });
            }
        });
        let clients: Vec<_> = (0..300u32)
            .map(|i| {
                let tcp = a.tcpv4();
                tokio::task::spawn_local(async move {
                    let flow = tcp
                        .create_connection(SocketAddrV4::new(B, 8081))
                        .await
                        .unwrap();
                    flow.write(&i.to_be_bytes()).await.unwrap();
                    let mut echoed = Vec::new();
                    while echoed.len() < 4 {
                        match flow.read().await.unwrap() {
                            Read::Data(data) => echoed.extend_from_slice(&data),
                            Read::Eof => panic!("closed early"),
                        }
                    }
                    assert_eq!(echoed, i.to_be_bytes());
                })
            })
            .collect();
        for client in clients {
            tokio::time::timeout(Duration::from_secs(30), client)
                .await
                .expect("a connection was not served")
                .unwrap();
        }
    });
}

/// With room for only a few sockets' buffers, a burst of connections is served as earlier
/// ones close: the SYNs beyond wait, the memory stays under the limit, and the port never
/// stops answering (a pool once left empty for want of memory used to stay empty).
#[test]
fn connections_beyond_the_tcp_memory_limit_wait_and_are_served() {
    const BUFFER: usize = 16 * 1024;
    const SOCKETS: usize = 4;
    const CLIENTS: u32 = 12;
    run(async {
        let (a, b) = pair(LinkFaults::default()).await;
        b.set_tcp_buffers(BUFFER);
        b.set_tcp_memory_limit(SOCKETS * 2 * BUFFER);
        let listener = b.bind_tcpv4(8082).await.unwrap();
        tokio::task::spawn_local(async move {
            while let Ok(flow) = listener.accept().await {
                tokio::task::spawn_local(async move {
                    flow.write(b"served").await.unwrap();
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    flow.close().await.unwrap();
                });
            }
        });
        let watched = b.clone();
        let most = Rc::new(std::cell::Cell::new(0));
        let seen = most.clone();
        tokio::task::spawn_local(async move {
            loop {
                seen.set(seen.get().max(watched.tcp_memory()));
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        });
        let clients: Vec<_> = (0..CLIENTS)
            .map(|_| {
                let tcp = a.tcpv4();
                tokio::task::spawn_local(async move {
                    let flow = tcp
                        .create_connection(SocketAddrV4::new(B, 8082))
                        .await
                        .unwrap();
                    let mut got = Vec::new();
                    while let Read::Data(data) = flow.read().await.unwrap() {
                        got.extend_from_slice(&data);
                    }
                    assert_eq!(got, b"served");
                })
            })
            .collect();
        for client in clients {
            tokio::time::timeout(Duration::from_secs(40), client)
                .await
                .expect("a connection was never served")
                .unwrap();
        }
        assert!(most.get() <= SOCKETS * 2 * BUFFER, "{} bytes", most.get());
        assert!(
            most.get() >= 2 * 2 * BUFFER,
            "the limit was never approached"
        );
        // And a connection now, at once.
        let tcp = a.tcpv4();
        let flow = tokio::time::timeout(
            Duration::from_secs(5),
            tcp.create_connection(SocketAddrV4::new(B, 8082)),
        )
        .await
        .expect("the port stopped answering")
        .unwrap();
        assert_eq!(flow.read().await.unwrap(), Read::Data("served".into()));
    });
}

/// Over a link that delivers some frames twice, every connection of a series is served and
/// none is reset: a copy of a SYN reaching a listening socket that comes before the
/// connection's own in smoltcp's set (a slot freed by an earlier connection) used to start
/// a second handshake, whose answer to the peer's next segment reset the connection.
#[test]
fn repeated_syns_neither_start_second_handshakes_nor_reset_connections() {
    run(async {
        let (a, b) = pair(LinkFaults::default().duplication(0.4).seed(7)).await;
        let listener = b.bind_tcpv4(8083).await.unwrap();
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
        let tcp = a.tcpv4();
        for n in 0..40u32 {
            let flow = tokio::time::timeout(
                Duration::from_secs(20),
                tcp.create_connection(SocketAddrV4::new(B, 8083)),
            )
            .await
            .expect("connecting")
            .unwrap_or_else(|e| panic!("connection {n}: {e}"));
            flow.write(&n.to_be_bytes()).await.unwrap();
            let mut echoed = Vec::new();
            while echoed.len() < 4 {
                match tokio::time::timeout(Duration::from_secs(20), flow.read()).await {
                    Ok(Ok(Read::Data(data))) => echoed.extend_from_slice(&data),
                    other => panic!("connection {n}: {other:?}"),
                }
            }
            assert_eq!(echoed, n.to_be_bytes(), "connection {n}");
            flow.close().await.unwrap();
        }
    });
}
