//! The socket stack under load: many concurrent connections, a burst of datagrams.

use mirage_net::{SocketStack, StackConfig};
use mirage_types::{Device, Flow, Read, StackV4};
use std::cell::Cell;
use std::net::Ipv4Addr;
use std::rc::Rc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::task::spawn_local;

const LOCALHOST: Ipv4Addr = Ipv4Addr::LOCALHOST;

fn open_descriptors() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// Lets this process hold the 2,000 descriptors of 1,000 connections.
fn raise_descriptor_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    unsafe {
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit);
        limit.rlim_cur = limit.rlim_max.min(65_536);
        libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
    }
}

fn stack() -> SocketStack {
    SocketStack::with_config(StackConfig::default().interfaces(vec![LOCALHOST]))
}

/// A single test, so that no other test opens descriptors while these are counted.
#[test]
fn a_thousand_clients_then_a_datagram_burst() {
    raise_descriptor_limit();
    mirage_unix::run(async {
        let before = open_descriptors();
        let stack = stack();
        let tcp_port = std::net::TcpListener::bind((LOCALHOST, 0))
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let udp_port = std::net::UdpSocket::bind((LOCALHOST, 0))
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let handled = Rc::new(Cell::new(0u32));
        let counter = handled.clone();
        stack.listen_tcpv4(tcp_port, move |flow| {
            let counter = counter.clone();
            async move {
                let mut message = Vec::new();
                while let Ok(Read::Data(data)) = flow.read().await {
                    message.extend_from_slice(&data);
                }
                flow.write(&message).await.unwrap();
                flow.close().await.unwrap();
                counter.set(counter.get() + 1);
            }
        });
        let datagrams = Rc::new(Cell::new(0u32));
        let counter = datagrams.clone();
        stack.listen_udpv4(udp_port, move |_| {
            counter.set(counter.get() + 1);
            async {}
        });
        let server = stack.clone();
        let serving = spawn_local(async move { server.listen().await });
        // Wait for the port to be bound.
        loop {
            if tokio::net::TcpStream::connect((LOCALHOST, tcp_port))
                .await
                .is_ok()
            {
                break;
            }
            tokio::task::yield_now().await;
        }
        while handled.get() < 1 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }

        let clients: Vec<_> = (0..1000)
            .map(|i| {
                spawn_local(async move {
                    let mut stream = tokio::net::TcpStream::connect((LOCALHOST, tcp_port))
                        .await
                        .unwrap();
                    let message = format!("message {i}");
                    stream.write_all(message.as_bytes()).await.unwrap();
                    stream.shutdown().await.unwrap();
                    let mut echoed = String::new();
                    stream.read_to_string(&mut echoed).await.unwrap();
                    assert_eq!(echoed, message);
                })
            })
            .collect();
        for client in clients {
            client.await.unwrap();
        }
        assert_eq!(handled.get(), 1001);

        // A burst of 10,000 datagrams: some may be dropped by the kernel, but the stack
        // keeps serving.
        let sender = tokio::net::UdpSocket::bind((LOCALHOST, 0)).await.unwrap();
        for i in 0..10_000u32 {
            sender
                .send_to(&i.to_be_bytes(), (LOCALHOST, udp_port))
                .await
                .unwrap();
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(
            datagrams.get() > 1000,
            "only {} datagrams handled",
            datagrams.get()
        );
        let mut stream = tokio::net::TcpStream::connect((LOCALHOST, tcp_port))
            .await
            .unwrap();
        stream.write_all(b"still here").await.unwrap();
        stream.shutdown().await.unwrap();
        let mut echoed = String::new();
        stream.read_to_string(&mut echoed).await.unwrap();
        assert_eq!(echoed, "still here");
        drop((stream, sender));

        stack.disconnect().await;
        serving.await.unwrap().unwrap();
        drop(stack);
        tokio::task::yield_now().await;
        assert!(
            open_descriptors() <= before,
            "{} descriptors open after, {before} before",
            open_descriptors()
        );
    });
}
