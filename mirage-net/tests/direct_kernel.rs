//! The direct stack over a real tap device, inside a network namespace made for the test,
//! moving 100 MiB each way with the kernel's TCP (netcat on the other side).
//!
//! Needs root; elsewhere it says so and skips.

use mirage_net::{Addressing, DirectStack};
use mirage_types::{Flow, Read, StackV4, Tcpv4};
use mirage_unix::Tap;
use sha2::{Digest, Sha256};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::os::fd::AsRawFd;
use std::process::Command;
use std::time::Duration;

const SIZE: usize = 100 << 20;

fn sh(script: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .status()
        .is_ok_and(|s| s.success())
}

/// Makes namespace `name` with tap0 at 10.0.0.1/24 and moves this thread into it.
fn enter_namespace(name: &str) -> bool {
    if unsafe { libc::geteuid() } != 0
        || !sh("command -v ip >/dev/null && command -v nc >/dev/null")
    {
        eprintln!("skipped: needs root, ip (iproute2) and nc (netcat-openbsd)");
        return false;
    }
    assert!(sh(&format!(
        "ip netns add {name} && ip netns exec {name} sh -c 'ip link set lo up && \
         ip tuntap add tap0 mode tap && ip addr add 10.0.0.1/24 dev tap0 && ip link set tap0 up'"
    )));
    let handle = std::fs::File::open(format!("/var/run/netns/{name}")).unwrap();
    // SAFETY: moves only this thread into the namespace.
    assert_eq!(
        unsafe { libc::setns(handle.as_raw_fd(), libc::CLONE_NEWNET) },
        0
    );
    true
}

#[test]
fn a_hundred_mebibytes_each_way_with_the_kernel() {
    let name = format!("mirage-bulk-{}", std::process::id());
    if !enter_namespace(&name) {
        return;
    }
    let _cleanup = Cleanup(name.clone());
    let dir = tempfile::tempdir().unwrap();
    let mut data = vec![0u8; SIZE];
    rand::Rng::fill(&mut rand::rng(), &mut data[..]);
    let expected = Sha256::digest(&data);
    let input = dir.path().join("in.bin");
    let output = dir.path().join("out.bin");
    std::fs::write(&input, &data).unwrap();

    mirage_unix::run(async {
        let tap = Tap::open("tap0").unwrap();
        let stack = DirectStack::connect(tap, Addressing::default())
            .await
            .unwrap();

        // The kernel's client sends to our server.
        let (sender, received) = tokio::sync::oneshot::channel();
        let sender = std::cell::RefCell::new(Some(sender));
        // Callbacks run while `listen` does.
        tokio::task::spawn_local({
            let stack = stack.clone();
            async move { stack.listen().await }
        });
        stack.listen_tcpv4(9000, move |flow| {
            let sender = sender.borrow_mut().take();
            async move {
                let mut hasher = Sha256::new();
                let mut total = 0;
                while let Ok(Read::Data(chunk)) = flow.read().await {
                    total += chunk.len();
                    hasher.update(&chunk);
                }
                if let Some(sender) = sender {
                    let _ = sender.send((total, hasher.finalize()));
                }
            }
        });
        let client = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("nc -N -w 10 10.0.0.2 9000 < {}", input.display()))
            .spawn()
            .unwrap();
        let (total, digest) = tokio::time::timeout(Duration::from_secs(300), received)
            .await
            .expect("kernel to stack transfer stalled")
            .unwrap();
        let status = tokio::task::spawn_blocking(move || {
            let mut c = client;
            c.wait()
        })
        .await
        .unwrap()
        .unwrap();
        assert!(status.success());
        assert_eq!(total, SIZE);
        assert_eq!(digest, expected, "kernel to stack: data differs");

        // Our client sends to the kernel's server.
        let server = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!(
                "nc -l 10.0.0.1 9001 < /dev/null > {}",
                output.display()
            ))
            .spawn()
            .unwrap();
        let flow = loop {
            match stack
                .tcpv4()
                .create_connection(SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 1), 9001))
                .await
            {
                Ok(flow) => break flow,
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        };
        for chunk in data.chunks(64 * 1024) {
            flow.write(chunk).await.unwrap();
        }
        flow.close().await.unwrap();
        while let Ok(Read::Data(_)) = flow.read().await {}
        let status = tokio::time::timeout(
            Duration::from_secs(300),
            tokio::task::spawn_blocking(move || {
                let mut s = server;
                s.wait()
            }),
        )
        .await
        .expect("stack to kernel transfer stalled")
        .unwrap()
        .unwrap();
        assert!(status.success());
    });
    let written = std::fs::read(&output).unwrap();
    assert_eq!(written.len(), SIZE);
    assert_eq!(
        Sha256::digest(&written),
        expected,
        "stack to kernel: data differs"
    );
}

/// Deletes the namespace however the test ends.
struct Cleanup(String);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

#[test]
fn datagrams_larger_than_the_mtu_travel_both_ways_in_fragments() {
    use mirage_types::{UdpListener, Udpv4};
    let name = format!("mirage-frag-{}", std::process::id());
    if !enter_namespace(&name) {
        return;
    }
    let _cleanup = Cleanup(name.clone());
    mirage_unix::run(async {
        let tap = Tap::open("tap0").unwrap();
        let stack = DirectStack::connect(tap, Addressing::default())
            .await
            .unwrap();
        let socket = stack.bind_udpv4(7000).await.unwrap();
        let kernel = tokio::net::UdpSocket::bind((Ipv4Addr::new(10, 0, 0, 1), 0))
            .await
            .unwrap();
        let kernel_port = kernel.local_addr().unwrap().port();
        for size in [1473, 3000, 20_000, mirage_types::MAX_UDP_PAYLOAD] {
            let data: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
            // Kernel to us: the kernel fragments, we reassemble.
            // The first datagram may wait for ARP: send again if nothing came, and pass over
            // a late copy of an earlier, smaller one.
            let received = 'sent: loop {
                kernel
                    .send_to(&data, (Ipv4Addr::new(10, 0, 0, 2), 7000))
                    .await
                    .unwrap();
                while let Ok(datagram) =
                    tokio::time::timeout(Duration::from_secs(1), socket.recv()).await
                {
                    let datagram = datagram.unwrap();
                    if datagram.data.len() == size {
                        break 'sent datagram;
                    }
                }
            };
            assert_eq!(received.data.len(), size);
            assert!(received.data[..] == data[..], "{size} bytes in");
            // Us to the kernel: we fragment, the kernel reassembles.
            stack
                .udpv4()
                .write(Some(7000), Ipv4Addr::new(10, 0, 0, 1), kernel_port, &data)
                .await
                .unwrap();
            let mut back = vec![0u8; 70_000];
            let (len, _) =
                tokio::time::timeout(Duration::from_secs(5), kernel.recv_from(&mut back))
                    .await
                    .expect("the kernel got our datagram")
                    .unwrap();
            assert_eq!(len, size);
            assert!(back[..len] == data[..], "{size} bytes out");
        }
        assert_eq!(socket.dropped(), 0);
    });
}

#[test]
fn a_kernel_peer_that_stops_reading_is_dropped_after_the_timeout() {
    use mirage_types::{TcpError, TcpListener};
    let name = format!("mirage-stall-{}", std::process::id());
    if !enter_namespace(&name) {
        return;
    }
    let _cleanup = Cleanup(name.clone());
    mirage_unix::run(async {
        let tap = Tap::open("tap0").unwrap();
        let stack = DirectStack::connect(tap, Addressing::default())
            .await
            .unwrap();
        stack.set_tcp_timeout(Duration::from_secs(4));
        let listener = stack.bind_tcpv4(9100).await.unwrap();
        // The kernel's client connects and never reads: its window shuts, and it goes on
        // answering our window probes.
        let client = tokio::net::TcpStream::connect((Ipv4Addr::new(10, 0, 0, 2), 9100));
        let (flow, client) = futures::join!(listener.accept(), client);
        let (flow, mut client) = (flow.unwrap(), client.unwrap());
        // It asks for something first, as a download's client does.
        tokio::io::AsyncWriteExt::write_all(&mut client, b"GET /large HTTP/1.1\r\n\r\n")
            .await
            .unwrap();
        assert!(matches!(flow.read().await, Ok(Read::Data(_))));
        let chunk = vec![1u8; 64 * 1024];
        let began = std::time::Instant::now();
        let outcome = tokio::time::timeout(Duration::from_secs(60), async {
            loop {
                if let Err(error) = flow.write(&chunk).await {
                    return error;
                }
            }
        })
        .await;
        let waited = began.elapsed();
        assert_eq!(outcome, Ok(TcpError::Timeout), "after {waited:?}");
        // The timeout itself, not smoltcp's retransmission timer (which, with the kernel
        // answering window probes, gave up after some 2.5 times the timeout, or never).
        eprintln!("the stalled write failed after {waited:?}");
        assert!(waited < Duration::from_millis(6500), "{waited:?}");
    });
}
