//! The socket stack on loopback: listeners, the client path, errors, and HTTP through the
//! tokio adapter.

use bytes::Bytes;
use mirage_net::{FlowStream, SocketStack, StackConfig};
use mirage_types::{
    Device, Flow, Ipv4, Read, StackError, StackV4, TcpError, TcpFlow, Tcpv4, UdpDatagram, Udpv4,
};
use std::cell::RefCell;
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener, UdpSocket};
use std::rc::Rc;
use std::time::Duration;
use tokio::task::spawn_local;

const LOCALHOST: Ipv4Addr = Ipv4Addr::LOCALHOST;

fn run<F: std::future::Future>(future: F) -> F::Output {
    mirage_unix::run(future)
}

fn free_tcp_port() -> u16 {
    TcpListener::bind((LOCALHOST, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn free_udp_port() -> u16 {
    UdpSocket::bind((LOCALHOST, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn loopback_stack() -> SocketStack {
    SocketStack::with_config(
        StackConfig::default()
            .interfaces(vec![LOCALHOST])
            .connect_timeout(Duration::from_millis(500)),
    )
}

#[test]
fn udp_datagrams_reach_the_callback_and_replies_leave_from_the_port() {
    run(async {
        let stack = loopback_stack();
        let port = free_udp_port();
        let seen: Rc<RefCell<Vec<UdpDatagram>>> = Rc::default();
        let udp = stack.udpv4();
        let record = seen.clone();
        stack.listen_udpv4(port, move |datagram| {
            let (record, udp) = (record.clone(), udp.clone());
            async move {
                udp.write(
                    Some(datagram.dst_port),
                    datagram.src,
                    datagram.src_port,
                    b"pong",
                )
                .await
                .unwrap();
                record.borrow_mut().push(datagram);
            }
        });
        let server = stack.clone();
        let serving = spawn_local(async move { server.listen().await });
        tokio::task::yield_now().await;

        let client = tokio::net::UdpSocket::bind((LOCALHOST, 0)).await.unwrap();
        let mut reply = [0u8; 16];
        let (len, from) = loop {
            client.send_to(b"ping", (LOCALHOST, port)).await.unwrap();
            match tokio::time::timeout(Duration::from_millis(100), client.recv_from(&mut reply))
                .await
            {
                Ok(received) => break received.unwrap(),
                Err(_) => continue, // the stack was not bound yet
            }
        };
        assert_eq!(&reply[..len], b"pong");
        assert_eq!(from.port(), port);
        let datagram = seen.borrow()[0].clone();
        assert_eq!(datagram.src_port, client.local_addr().unwrap().port());
        assert_eq!(
            (datagram.src, datagram.dst, datagram.dst_port),
            (LOCALHOST, LOCALHOST, port)
        );
        assert_eq!(datagram.data, Bytes::from("ping"));

        stack.disconnect().await;
        assert_eq!(serving.await.unwrap(), Ok(()));
        assert!(
            stack
                .udpv4()
                .write(None, LOCALHOST, port, b"x")
                .await
                .is_err()
        );
    });
}

#[test]
fn tcp_echo_through_the_client_path_with_half_close() {
    run(async {
        let stack = loopback_stack();
        let port = free_tcp_port();
        stack.listen_tcpv4(port, |flow| async move {
            while let Ok(Read::Data(data)) = flow.read().await {
                flow.write(&data).await.unwrap();
            }
            flow.close().await.unwrap();
        });
        let server = stack.clone();
        spawn_local(async move { server.listen().await.unwrap() });

        let tcp = stack.tcpv4();
        let destination = SocketAddrV4::new(LOCALHOST, port);
        let flow = loop {
            match tcp.create_connection(destination).await {
                Ok(flow) => break flow,
                Err(TcpError::Refused) => tokio::task::yield_now().await,
                Err(other) => panic!("{other}"),
            }
        };
        assert_eq!(flow.get_dest(), destination);
        flow.writev(&[b"hello ", b"tcp"]).await.unwrap();
        flow.write_nodelay(b" world").await.unwrap();
        flow.close().await.unwrap();
        assert_eq!(flow.write(b"late").await, Err(TcpError::Closed));
        let mut echoed = Vec::new();
        while let Read::Data(data) = flow.read().await.unwrap() {
            echoed.extend_from_slice(&data);
        }
        assert_eq!(echoed, b"hello tcp world");
        stack.disconnect().await;
    });
}

#[test]
fn a_second_registration_replaces_the_first() {
    run(async {
        let stack = loopback_stack();
        let port = free_tcp_port();
        stack.listen_tcpv4(port, |flow| async move {
            flow.write(b"first").await.unwrap();
        });
        stack.listen_tcpv4(port, |flow| async move {
            flow.write(b"second").await.unwrap();
        });
        let server = stack.clone();
        spawn_local(async move { server.listen().await.unwrap() });
        let mut stream = loop {
            match tokio::net::TcpStream::connect((LOCALHOST, port)).await {
                Ok(stream) => break stream,
                Err(_) => tokio::task::yield_now().await,
            }
        };
        let mut got = String::new();
        tokio::io::AsyncReadExt::read_to_string(&mut stream, &mut got)
            .await
            .unwrap();
        assert_eq!(got, "second");
        stack.disconnect().await;
    });
}

#[test]
fn refused_and_timeout_errors() {
    run(async {
        let stack = loopback_stack();
        let tcp = stack.tcpv4();
        let closed_port = free_tcp_port();
        assert_eq!(
            tcp.create_connection(SocketAddrV4::new(LOCALHOST, closed_port))
                .await
                .unwrap_err(),
            TcpError::Refused
        );
        // A listener that never accepts: once its queue is full the kernel drops new SYNs.
        let full = tokio::net::TcpSocket::new_v4().unwrap();
        full.bind((LOCALHOST, 0).into()).unwrap();
        let address = full.local_addr().unwrap();
        let _listener = full.listen(0).unwrap();
        let mut held = Vec::new();
        let mut outcome = Ok(());
        for _ in 0..8 {
            match tcp
                .create_connection(SocketAddrV4::new(LOCALHOST, address.port()))
                .await
            {
                Ok(flow) => held.push(flow),
                Err(error) => {
                    outcome = Err(error);
                    break;
                }
            }
        }
        assert_eq!(outcome, Err(TcpError::Timeout));
    });
}

#[test]
fn bind_errors_name_the_port_and_the_fix() {
    run(async {
        let holder = TcpListener::bind((LOCALHOST, 0)).unwrap();
        let port = holder.local_addr().unwrap().port();
        let stack = loopback_stack();
        stack.listen_tcpv4(port, |_flow| async {});
        match stack.listen().await {
            Err(error @ StackError::Io(_)) => {
                let text = error.to_string();
                assert!(text.contains(&format!("TCP port {port}")), "{text}");
                assert!(text.contains("another program"), "{text}");
                assert_eq!(error.kind(), mirage_types::ErrorKind::AddressInUse);
                let source = std::error::Error::source(&error).expect("the OS error");
                assert!(source.to_string().contains("in use"), "{source}");
            }
            other => panic!("{other:?}"),
        }
    });
}

#[test]
fn ipv4_view_reports_the_interfaces() {
    run(async {
        let any = SocketStack::new();
        assert_eq!(any.ipv4().get_ip(), vec![Ipv4Addr::UNSPECIFIED]);
        let some = SocketStack::with_config(
            StackConfig::default().interfaces(vec![LOCALHOST, Ipv4Addr::new(127, 0, 0, 2)]),
        );
        assert_eq!(some.ipv4().get_ip().len(), 2);
        assert_eq!(some.ipv4().get_source(Ipv4Addr::new(1, 2, 3, 4)), LOCALHOST);
        assert!(some.ipv4().set_ip(LOCALHOST).await.is_err());
    });
}

#[test]
fn an_interface_named_twice_is_bound_once() {
    run(async {
        let twice =
            SocketStack::with_config(StackConfig::default().interfaces(vec![LOCALHOST, LOCALHOST]));
        assert_eq!(twice.ipv4().get_ip(), [LOCALHOST]);
        // Before, the second bind failed as if another program held the port.
        twice.bind_tcpv4(0).await.unwrap();
        let all = SocketStack::with_config(
            StackConfig::default().interfaces(vec![LOCALHOST, Ipv4Addr::UNSPECIFIED]),
        );
        assert_eq!(all.ipv4().get_ip(), [Ipv4Addr::UNSPECIFIED]);
        all.bind_udpv4(0).await.unwrap();
    });
}

/// HTTP/1.1 with hyper, server and client both on stack flows through `FlowStream`.
#[test]
fn hyper_serves_and_fetches_over_stack_flows() {
    use http_body_util::{BodyExt, Full};
    use hyper::service::service_fn;
    use hyper_util::rt::TokioIo;

    run(async {
        let stack = loopback_stack();
        let port = free_tcp_port();
        stack.listen_tcpv4(port, |flow| async move {
            let service = service_fn(
                |request: hyper::Request<hyper::body::Incoming>| async move {
                    let body = format!("you asked for {}", request.uri().path());
                    Ok::<_, hyper::Error>(hyper::Response::new(Full::new(Bytes::from(body))))
                },
            );
            hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(FlowStream::new(flow)), service)
                .await
                .unwrap();
        });
        let server = stack.clone();
        spawn_local(async move { server.listen().await.unwrap() });

        for path in ["/one", "/two/three"] {
            let flow = loop {
                match stack
                    .tcpv4()
                    .create_connection(SocketAddrV4::new(LOCALHOST, port))
                    .await
                {
                    Ok(flow) => break flow,
                    Err(_) => tokio::task::yield_now().await,
                }
            };
            let (mut sender, connection) =
                hyper::client::conn::http1::handshake(TokioIo::new(FlowStream::new(flow)))
                    .await
                    .unwrap();
            spawn_local(connection);
            let request = hyper::Request::get(path)
                .header("host", "localhost")
                .body(Full::new(Bytes::new()))
                .unwrap();
            let response = sender.send_request(request).await.unwrap();
            assert_eq!(response.status(), 200);
            let body = response.into_body().collect().await.unwrap().to_bytes();
            assert_eq!(body, format!("you asked for {path}"));
        }
        stack.disconnect().await;
    });
}

#[test]
fn silent_peers_time_out_and_a_full_stack_refuses_at_once() {
    use mirage_types::TcpListener as _;
    use std::io::Read as _;
    run(async {
        let stack = SocketStack::with_config(
            StackConfig::new()
                .interfaces(vec![LOCALHOST])
                .idle_timeout(Some(Duration::from_millis(300)))
                .max_connections(2),
        );
        let listener = stack.bind_tcpv4(0).await.unwrap();
        let address = listener.local_addr();
        // Two clients connect and say nothing.
        let quiet: Vec<std::net::TcpStream> = (0..2)
            .map(|_| std::net::TcpStream::connect(address).unwrap())
            .collect();
        let first = listener.accept().await.unwrap();
        let second = listener.accept().await.unwrap();
        // A third is refused at once (reset), not left waiting in the backlog.
        let mut third = std::net::TcpStream::connect(address).unwrap();
        third
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let refusal = tokio::task::spawn_blocking(move || {
            let mut byte = [0u8; 1];
            third.read(&mut byte)
        });
        let accepting = tokio::time::timeout(Duration::from_millis(500), listener.accept());
        assert!(
            accepting.await.is_err(),
            "nothing beyond the limit is accepted"
        );
        match refusal.await.unwrap() {
            Ok(0) => {}
            Err(error) => assert_eq!(error.kind(), std::io::ErrorKind::ConnectionReset),
            Ok(n) => panic!("read {n} bytes"),
        }
        // A silent peer's read times out; dropping that flow makes room for a new client.
        let started = std::time::Instant::now();
        assert_eq!(first.read().await, Err(TcpError::Timeout));
        assert!(started.elapsed() < Duration::from_secs(2));
        drop(first);
        let _fourth = std::net::TcpStream::connect(address).unwrap();
        let fourth = tokio::time::timeout(Duration::from_secs(2), listener.accept()).await;
        assert!(fourth.is_ok(), "room was made");
        drop((second, quiet));
    });
}

#[test]
fn a_read_dropped_mid_wait_does_not_shorten_the_next_reads_idle_timeout() {
    use mirage_types::TcpListener as _;
    run(async {
        let idle = Duration::from_millis(400);
        let stack = SocketStack::with_config(
            StackConfig::new()
                .interfaces(vec![LOCALHOST])
                .idle_timeout(Some(idle)),
        );
        let listener = stack.bind_tcpv4(0).await.unwrap();
        let _quiet = std::net::TcpStream::connect(listener.local_addr()).unwrap();
        let flow = listener.accept().await.unwrap();
        // A read given up after 100 ms, then nothing asked for a while.
        let abandoned = tokio::time::timeout(Duration::from_millis(100), flow.read()).await;
        assert!(abandoned.is_err(), "the peer said nothing");
        tokio::time::sleep(Duration::from_millis(500)).await;
        // The next read waits its own idle timeout from its start.
        let started = std::time::Instant::now();
        assert_eq!(flow.read().await, Err(TcpError::Timeout));
        let waited = started.elapsed();
        assert!(
            waited >= idle - Duration::from_millis(50),
            "timed out after {waited:?}, not the idle timeout"
        );
        stack.disconnect().await;
    });
}
