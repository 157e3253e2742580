//! The pull form of listening (`bind_tcpv4`/`bind_udpv4`) on both stacks, the callback form
//! outside `mirage_unix::run`, and stacks behind pointers.

use mirage_net::{Addressing, DirectStack, MemLink, SocketStack, StackConfig};
use mirage_types::{
    Device, ErrorKind, Flow, Ipv4Config, Read, StackV4, TcpListener, Tcpv4, UdpListener, Udpv4,
};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::rc::Rc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const LOCALHOST: Ipv4Addr = Ipv4Addr::LOCALHOST;

fn loopback_stack() -> SocketStack {
    SocketStack::with_config(StackConfig::new().interfaces(vec![LOCALHOST]))
}

/// A current-thread runtime with no `LocalSet`: what a plain `#[tokio::main(flavor =
/// "current_thread")]` gives.
fn plain_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn socket_stack_binds_port_zero_and_accepts_without_listen() {
    plain_runtime().block_on(async {
        let stack = loopback_stack();
        let listener = stack.bind_tcpv4(0).await.unwrap();
        let local = listener.local_addr();
        assert_eq!(*local.ip(), LOCALHOST);
        assert_ne!(local.port(), 0, "port 0 picks a free port");
        // Ready as soon as it is bound: a client connects before anyone accepts.
        let mut client = tokio::net::TcpStream::connect(local).await.unwrap();
        client.write_all(b"ping").await.unwrap();
        let flow = listener.accept().await.unwrap();
        match flow.read().await.unwrap() {
            Read::Data(bytes) => assert_eq!(&bytes[..], b"ping"),
            Read::Eof => panic!("eof"),
        }
        flow.write(b"pong").await.unwrap();
        let mut answer = [0; 4];
        client.read_exact(&mut answer).await.unwrap();
        assert_eq!(&answer, b"pong");

        // The same port twice is refused with a kind generic code can match.
        let again = stack.bind_tcpv4(local.port()).await.unwrap_err();
        assert_eq!(again.kind(), ErrorKind::AddressInUse, "{again}");
    });
}

#[test]
fn socket_stack_udp_socket_receives_and_replies_from_its_port() {
    plain_runtime().block_on(async {
        let stack = loopback_stack();
        let socket = stack.bind_udpv4(0).await.unwrap();
        let port = socket.local_addr().port();
        let peer = tokio::net::UdpSocket::bind((LOCALHOST, 0)).await.unwrap();
        peer.send_to(b"question", (LOCALHOST, port)).await.unwrap();
        let datagram = socket.recv().await.unwrap();
        assert_eq!(&datagram.data[..], b"question");
        assert_eq!(datagram.dst_port, port);
        stack
            .udpv4()
            .write(Some(port), datagram.src, datagram.src_port, b"answer")
            .await
            .unwrap();
        let mut buf = [0; 16];
        let (len, from) = peer.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..len], b"answer");
        assert_eq!(from.port(), port, "the reply leaves from the bound port");
        // The same through the listener, which cannot get the addresses the wrong way round.
        socket.reply(&datagram, b"again").await.unwrap();
        let (len, from) = peer.recv_from(&mut buf).await.unwrap();
        assert_eq!((&buf[..len], from.port()), (&b"again"[..], port));
    });
}

#[test]
fn callbacks_run_under_a_plain_runtime_and_end_with_disconnect() {
    // No LocalSet: callbacks run inside `listen`, so nothing is spawned.
    plain_runtime().block_on(async {
        let stack = Rc::new(loopback_stack());
        let probe = stack.bind_tcpv4(0).await.unwrap();
        let port = probe.local_addr().port();
        drop(probe);
        stack.listen_tcpv4(port, |flow| async move {
            flow.write(b"hello\n").await.unwrap();
        });
        let client = async {
            let mut stream = loop {
                match tokio::net::TcpStream::connect((LOCALHOST, port)).await {
                    Ok(stream) => break stream,
                    Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
                }
            };
            let mut line = Vec::new();
            stream.read_to_end(&mut line).await.unwrap();
            assert_eq!(line, b"hello\n");
            stack.disconnect().await;
        };
        // `Rc<SocketStack>` is a stack too.
        let (served, ()) = tokio::join!(StackV4::listen(&stack), client);
        served.unwrap();
    });
}

#[test]
fn callbacks_run_under_a_multi_thread_runtime_block_on() {
    // What `#[tokio::main]` gives: the future passed to `block_on` may hold `!Send` devices.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let stack = loopback_stack();
        let socket = stack.bind_udpv4(0).await.unwrap();
        let port = socket.local_addr().port();
        drop(socket);
        let (seen, mut got) = tokio::sync::mpsc::unbounded_channel();
        stack.listen_udpv4(port, move |datagram| {
            let seen = seen.clone();
            async move {
                let _ = seen.send(datagram.data);
            }
        });
        let sender = async {
            let peer = tokio::net::UdpSocket::bind((LOCALHOST, 0)).await.unwrap();
            loop {
                peer.send_to(b"x", (LOCALHOST, port)).await.unwrap();
                tokio::select! {
                    data = got.recv() => { assert_eq!(&data.unwrap()[..], b"x"); break; }
                    () = tokio::time::sleep(Duration::from_millis(20)) => {}
                }
            }
            stack.disconnect().await;
        };
        let (served, ()) = tokio::join!(stack.listen(), sender);
        served.unwrap();
    });
}

fn address(last: u8) -> Addressing {
    Addressing::Static(Ipv4Config::new(
        Ipv4Addr::new(10, 0, 0, last),
        Ipv4Addr::new(255, 255, 255, 0),
        vec![],
    ))
}

#[test]
fn direct_stack_pull_form_with_its_driver_on_a_plain_runtime() {
    plain_runtime().block_on(async {
        let (a, b) = MemLink::pair();
        let (server, server_driver) = DirectStack::with_driver(a, address(2)).unwrap();
        let (client, client_driver) = DirectStack::with_driver(b, address(3)).unwrap();
        let application = async {
            let listener = server.bind_tcpv4(0).await.unwrap();
            let local = listener.local_addr();
            assert_eq!(*local.ip(), Ipv4Addr::new(10, 0, 0, 2));
            assert_ne!(local.port(), 0);
            let again = server.bind_tcpv4(local.port()).await.unwrap_err();
            assert_eq!(again.kind(), ErrorKind::AddressInUse);

            let udp = server.bind_udpv4(0).await.unwrap();
            let udp_port = udp.local_addr().port();
            client
                .udpv4()
                .write(
                    Some(4000),
                    Ipv4Addr::new(10, 0, 0, 2),
                    udp_port,
                    b"datagram",
                )
                .await
                .unwrap();
            let datagram = udp.recv().await.unwrap();
            assert_eq!(&datagram.data[..], b"datagram");
            assert_eq!(
                (datagram.src, datagram.src_port),
                (Ipv4Addr::new(10, 0, 0, 3), 4000)
            );
            // The client answers from a bound port of its own; the reply comes back to it.
            let client_udp = client.bind_udpv4(4001).await.unwrap();
            udp.send_to(
                SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 3), 4001),
                b"hello",
            )
            .await
            .unwrap();
            let hello = client_udp.recv().await.unwrap();
            assert_eq!((&hello.data[..], hello.src_port), (&b"hello"[..], udp_port));
            client_udp.reply(&hello, b"reply").await.unwrap();
            let reply = udp.recv().await.unwrap();
            assert_eq!((&reply.data[..], reply.src_port), (&b"reply"[..], 4001));

            let tcp = client.tcpv4();
            let (accepted, connected) = tokio::join!(
                listener.accept(),
                tcp.create_connection(SocketAddrV4::new(*local.ip(), local.port()))
            );
            let (accepted, connected) = (accepted.unwrap(), connected.unwrap());
            connected.write(b"over the link").await.unwrap();
            connected.close().await.unwrap();
            let mut got = Vec::new();
            while let Read::Data(bytes) = accepted.read().await.unwrap() {
                got.extend_from_slice(&bytes);
            }
            assert_eq!(got, b"over the link");

            // Closing the listener frees its sockets; disconnecting ends `accept`.
            let before = server.socket_count();
            drop(listener);
            assert!(server.socket_count() < before);
            let listener = server.bind_tcpv4(0).await.unwrap();
            server.disconnect().await;
            client.disconnect().await;
            assert!(listener.accept().await.is_err());
        };
        tokio::join!(server_driver, client_driver, application);
    });
}
