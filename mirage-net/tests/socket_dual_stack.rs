//! The socket stack as a dual stack (`StackV4V6`): one port for IPv4 and IPv6 peers, the
//! kernel's own `nc -6` as a peer, and clear errors where a family is missing.

use mirage_net::{SocketStack, StackConfig};
use mirage_types::{
    Flow, Read, StackV4, StackV4V6, TcpError, TcpFlow, TcpListenerV4V6, TcpV4V6, UdpError,
    UdpListenerV4V6, UdpV4V6,
};
use std::io::{Read as _, Write as _};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::process::{Command, Stdio};
use std::string::ToString;
use std::time::Duration;

fn run<F: std::future::Future>(future: F) -> F::Output {
    mirage_unix::run(future)
}

/// A dual stack on every address of both families (one dual-stack socket per port).
fn dual_stack() -> SocketStack {
    SocketStack::with_config(StackConfig::default().connect_timeout(Duration::from_secs(2)))
}

async fn read_all<F: Flow<Error = TcpError>>(flow: &F) -> Vec<u8> {
    let mut got = Vec::new();
    while let Ok(Read::Data(bytes)) = flow.read().await {
        got.extend_from_slice(&bytes);
    }
    got
}

/// Runs `nc` with `args`, writing `input`, and returns what it printed.
fn nc(args: &[&str], input: &[u8]) -> String {
    let mut child = Command::new("nc")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("nc (Debian's netcat-openbsd) is installed");
    child.stdin.take().unwrap().write_all(input).unwrap();
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    child.wait().unwrap();
    out
}

#[test]
fn one_port_accepts_ipv4_and_ipv6_peers_and_reports_each_as_itself() {
    run(async {
        let stack = dual_stack();
        let listener = stack.bind_tcp(0).await.unwrap();
        let port = listener.local_addr().port();
        assert!(listener.local_addr().ip().is_unspecified());
        let tcp = stack.tcp();
        for peer in [
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(Ipv6Addr::LOCALHOST),
        ] {
            let (accepted, connected) = futures::join!(
                listener.accept(),
                tcp.create_connection(SocketAddr::new(peer, port))
            );
            let (accepted, connected) = (accepted.unwrap(), connected.unwrap());
            // An IPv4 peer of a dual-stack socket is IPv4, not `::ffff:127.0.0.1`.
            assert_eq!(accepted.peer().ip(), peer);
            assert_eq!(connected.peer(), SocketAddr::new(peer, port));
            connected.write(b"over ").await.unwrap();
            connected.write(peer.to_string().as_bytes()).await.unwrap();
            connected.close().await.unwrap();
            assert_eq!(
                read_all(&accepted).await,
                format!("over {peer}").into_bytes()
            );
            // V1's IPv4 view: the address itself, or 0.0.0.0 for an IPv6 peer.
            let v4 = accepted.get_dest();
            assert_eq!(
                IpAddr::V4(*v4.ip()),
                if peer.is_ipv4() {
                    peer
                } else {
                    Ipv4Addr::UNSPECIFIED.into()
                }
            );
        }
    });
}

#[test]
fn the_kernels_nc_reaches_the_dual_stack_over_ipv6_and_ipv4_by_tcp_and_udp() {
    run(async {
        let stack = dual_stack();
        let tcp = stack.bind_tcp(0).await.unwrap();
        let udp = stack.bind_udp(0).await.unwrap();
        let (tcp_port, udp_port) = (tcp.local_addr().port(), udp.local_addr().port());
        let serving = async {
            for _ in 0..2 {
                let flow = tcp.accept().await.unwrap();
                let line = read_all(&flow).await;
                let answer = format!(
                    "{} said {}",
                    flow.peer().ip(),
                    String::from_utf8_lossy(&line)
                );
                flow.write(answer.as_bytes()).await.unwrap();
                flow.close().await.unwrap();
            }
            for _ in 0..2 {
                let datagram = udp.recv().await.unwrap();
                let answer = format!(
                    "{} sent {}",
                    datagram.src,
                    String::from_utf8_lossy(&datagram.data)
                );
                udp.reply(&datagram, answer.as_bytes()).await.unwrap();
            }
        };
        let clients = tokio::task::spawn_blocking(move || {
            let tcp = |family: &str, host: &str| {
                nc(
                    &[family, "-N", "-w", "5", host, &tcp_port.to_string()],
                    b"hi\n",
                )
            };
            let udp = |family: &str, host: &str| {
                nc(
                    &[family, "-u", "-w", "1", host, &udp_port.to_string()],
                    b"ping\n",
                )
            };
            [
                tcp("-6", "::1"),
                tcp("-4", "127.0.0.1"),
                udp("-6", "::1"),
                udp("-4", "127.0.0.1"),
            ]
        });
        let ((), answers) = futures::join!(serving, clients);
        assert_eq!(
            answers.unwrap(),
            [
                "::1 said hi\n",
                "127.0.0.1 said hi\n",
                "::1 sent ping\n",
                "127.0.0.1 sent ping\n"
            ]
        );
    });
}

#[test]
fn separate_interfaces_bind_ipv6_only_sockets_beside_ipv4_ones() {
    run(async {
        let stack = SocketStack::with_config(
            StackConfig::default()
                .interfaces(vec![Ipv4Addr::LOCALHOST])
                .ipv6_interfaces(vec![Ipv6Addr::LOCALHOST]),
        );
        let listener = stack.bind_tcp(0).await.unwrap();
        assert_eq!(listener.local_addr().ip(), IpAddr::V4(Ipv4Addr::LOCALHOST));
        let port = listener.local_addr().port();
        // Two sockets (the IPv6 one IPV6_V6ONLY, else it could not share the port with
        // the IPv4 one): both addresses are served by the one listener.
        for peer in ["127.0.0.1", "::1"] {
            let peer: IpAddr = peer.parse().unwrap();
            let client = std::net::TcpStream::connect((peer, port)).unwrap();
            let flow = listener.accept().await.unwrap();
            assert_eq!(flow.peer(), client.local_addr().unwrap());
        }
        assert_eq!(
            stack
                .configured_ips()
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            // Their interface's prefixes: lo has 127.0.0.0/8.
            ["127.0.0.1/8", "::1/128"]
        );
        // UDP from each family leaves from the port's socket of that family.
        let udp = stack.bind_udp(0).await.unwrap();
        let udp_port = udp.local_addr().port();
        for peer in ["127.0.0.1:0", "[::1]:0"] {
            let client = std::net::UdpSocket::bind(peer).unwrap();
            client
                .set_read_timeout(Some(Duration::from_secs(5)))
                .unwrap();
            let server = SocketAddr::new(client.local_addr().unwrap().ip(), udp_port);
            client.send_to(b"x", server).unwrap();
            let datagram = udp.recv().await.unwrap();
            assert_eq!(datagram.sender(), client.local_addr().unwrap());
            udp.reply(&datagram, b"y").await.unwrap();
            let mut buf = [0; 8];
            let (n, from) = client.recv_from(&mut buf).unwrap();
            assert_eq!((&buf[..n], from), (&b"y"[..], server));
        }
    });
}

#[test]
fn without_ipv6_the_dual_stack_serves_ipv4_and_says_why_ipv6_fails() {
    run(async {
        let stack = SocketStack::with_config(StackConfig::default().ipv6_interfaces(vec![]));
        let listener = stack.bind_tcp(0).await.unwrap();
        assert!(listener.local_addr().is_ipv4());
        let v6 = SocketAddr::new(Ipv6Addr::LOCALHOST.into(), listener.local_addr().port());
        let error = stack.tcp().create_connection(v6).await.unwrap_err();
        assert!(error.to_string().contains("no IPv6"), "{error}");
        let error = stack.udp().write(None, v6, b"x").await.unwrap_err();
        assert!(matches!(error, UdpError::Unknown(_)), "{error}");
        assert!(std::net::TcpStream::connect(v6).is_err());
        let v4 = SocketAddr::new(Ipv4Addr::LOCALHOST.into(), listener.local_addr().port());
        let tcp = stack.tcp();
        let (accepted, connected) = futures::join!(listener.accept(), tcp.create_connection(v4));
        assert_eq!(
            accepted.unwrap().peer(),
            connected.unwrap().local_addr().unwrap()
        );
    });
}

#[test]
fn a_stack_kept_to_named_ipv4_addresses_is_not_opened_to_ipv6_unawares() {
    run(async {
        let stack =
            SocketStack::with_config(StackConfig::default().interfaces(vec![Ipv4Addr::LOCALHOST]));
        let listener = stack.bind_tcp(0).await.unwrap();
        let port = listener.local_addr().port();
        assert!(std::net::TcpStream::connect(("::1", port)).is_err());
        assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_ok());
    });
}

#[test]
fn a_port_held_by_the_v1_face_is_refused_to_the_dual_face() {
    run(async {
        let stack = dual_stack();
        let v4 = stack.bind_tcpv4(0).await.unwrap();
        let port = mirage_types::TcpListener::local_addr(&v4).port();
        let error = stack.bind_tcp(port).await.unwrap_err();
        assert!(error.to_string().contains(&port.to_string()), "{error}");
    });
}

#[test]
fn oversized_ipv6_datagrams_are_refused_before_the_kernel() {
    run(async {
        let stack = dual_stack();
        let to: SocketAddr = "[::1]:9".parse().unwrap();
        let big = vec![0; mirage_types::MAX_UDP_PAYLOAD_V6 + 1];
        assert!(matches!(
            stack.udp().write(None, to, &big).await,
            Err(UdpError::TooLong(_))
        ));
    });
}

/// Mirage 4's callback form on any dual stack: a TCP port greeting and a UDP port echoing,
/// for both families.
fn serve_with_callbacks<S: StackV4V6 + Clone + 'static>(stack: &S, tcp: u16, udp: u16) {
    stack.listen_tcp(tcp, |flow| async move {
        let _ = flow
            .write(format!("hello {}\n", flow.peer().ip()).as_bytes())
            .await;
        let _ = flow.close().await;
    });
    let sender = stack.udp();
    stack.listen_udp(udp, move |datagram| {
        let sender = sender.clone();
        async move {
            let _ = sender
                .write(Some(udp), datagram.sender(), &datagram.data)
                .await;
        }
    });
    let serving = stack.clone();
    tokio::task::spawn_local(async move { serving.listen_v4v6().await });
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("[::]:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn callbacks_serve_both_families_on_one_port() {
    run(async {
        let stack = dual_stack();
        let (tcp, udp) = (free_port(), free_port());
        serve_with_callbacks(&stack, tcp, udp);
        tokio::time::sleep(Duration::from_millis(100)).await;
        let answers = tokio::task::spawn_blocking(move || {
            let mut answers = Vec::new();
            for host in ["127.0.0.1", "::1"] {
                let mut stream = std::net::TcpStream::connect((host, tcp)).unwrap();
                let mut greeting = String::new();
                stream.read_to_string(&mut greeting).unwrap();
                answers.push(greeting);
                let bind = if host == "::1" {
                    "[::1]:0"
                } else {
                    "127.0.0.1:0"
                };
                let socket = std::net::UdpSocket::bind(bind).unwrap();
                socket
                    .set_read_timeout(Some(Duration::from_secs(5)))
                    .unwrap();
                socket.send_to(b"echo me", (host, udp)).unwrap();
                let mut buf = [0; 16];
                let (n, _) = socket.recv_from(&mut buf).unwrap();
                answers.push(String::from_utf8_lossy(&buf[..n]).into_owned());
            }
            answers
        })
        .await
        .unwrap();
        assert_eq!(
            answers,
            ["hello 127.0.0.1\n", "echo me", "hello ::1\n", "echo me"]
        );
    });
}

#[test]
fn an_ipv4_only_stack_runs_a_dual_stack_application_and_refuses_ipv6_peers_clearly() {
    run(async {
        let v1 =
            SocketStack::with_config(StackConfig::default().interfaces(vec![Ipv4Addr::LOCALHOST]));
        let stack = mirage_types::Ipv4Only(v1);
        let (tcp, udp) = (free_port(), free_port());
        serve_with_callbacks(&stack, tcp, udp);
        tokio::time::sleep(Duration::from_millis(100)).await;
        let flow = stack
            .tcp()
            .create_connection(SocketAddr::new(Ipv4Addr::LOCALHOST.into(), tcp))
            .await
            .unwrap();
        let mut got = Vec::new();
        while let Ok(Read::Data(bytes)) = flow.read().await {
            got.extend_from_slice(&bytes);
        }
        assert_eq!(got, b"hello 127.0.0.1\n");
        assert_eq!(
            stack
                .configured_ips()
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            ["127.0.0.1/32"]
        );
        let v6 = SocketAddr::new(Ipv6Addr::LOCALHOST.into(), tcp);
        let error = stack.tcp().create_connection(v6).await.unwrap_err();
        assert!(error.to_string().contains("no IPv6"), "{error}");
        let error = stack.udp().write(None, v6, b"x").await.unwrap_err();
        assert!(error.to_string().contains("no IPv6"), "{error}");
    });
}

#[test]
fn a_stack_on_every_address_lists_the_hosts_addresses_with_their_prefixes() {
    let stack = dual_stack();
    let listed: Vec<String> = stack
        .configured_ips()
        .iter()
        .map(ToString::to_string)
        .collect();
    for loopback in ["127.0.0.1/8", "::1/128"] {
        assert!(listed.iter().any(|ip| ip == loopback), "{listed:?}");
    }
    let v4_only = SocketStack::with_config(
        StackConfig::default()
            .interfaces(vec![Ipv4Addr::UNSPECIFIED])
            .ipv6_interfaces(vec![]),
    );
    assert!(
        v4_only
            .configured_ips()
            .iter()
            .all(|c| c.address().is_ipv4())
    );
    assert!(!v4_only.configured_ips().is_empty());
}
