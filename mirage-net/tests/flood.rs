//! A UDP flood at a port whose callback is stalled costs bounded memory on both stacks, and
//! the drops are counted where a user can read them. (Before, each datagram became a task of
//! its own: 8,000 datagrams of 60 KB held over 400 MB.)
//!
//! One test in its own binary, so that nothing else moves the process's memory meanwhile.

use mirage_net::{Addressing, DirectStack, MemLink, SocketStack, StackConfig};
use mirage_types::{Device, Ipv4Config, StackV4, Udpv4};
use std::net::Ipv4Addr;
use std::time::Duration;

/// The process's resident memory in bytes.
fn rss() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    // SAFETY: sysconf has no preconditions.
    pages * unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as u64
}

/// A callback that holds its datagram for a long time: a stalled console.
async fn stalled(datagram: mirage_types::UdpDatagram) {
    tokio::time::sleep(Duration::from_secs(30)).await;
    drop(datagram);
}

const MIB: u64 = 1024 * 1024;

#[test]
fn udp_floods_cost_bounded_memory_and_count_their_drops() {
    mirage_unix::run(async {
        // The socket stack: 8,000 datagrams of 60 KB from another thread.
        let stack =
            SocketStack::with_config(StackConfig::new().interfaces(vec![Ipv4Addr::LOCALHOST]));
        let port = {
            let probe = stack.bind_udpv4(0).await.unwrap();
            mirage_types::UdpListener::local_addr(&probe).port()
        };
        stack.listen_udpv4(port, stalled);
        let server = stack.clone();
        tokio::task::spawn_local(async move { server.listen().await });
        tokio::time::sleep(Duration::from_millis(100)).await;
        let before = rss();
        let sender = std::thread::spawn(move || {
            let socket = std::net::UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
            let payload = vec![7u8; 60_000];
            for _ in 0..8_000 {
                let _ = socket.send_to(&payload, (Ipv4Addr::LOCALHOST, port));
            }
        });
        while !sender.is_finished() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        let grown = rss().saturating_sub(before);
        let dropped = stack.udp_dropped(port).unwrap();
        eprintln!("socket stack: +{} MiB, {dropped} dropped", grown / MIB);
        assert!(grown < 64 * MIB, "socket stack grew by {} MiB", grown / MIB);
        assert!(dropped > 0, "the drops are counted");
        stack.disconnect().await;

        // The direct stack, over an in-memory link: 30,000 datagrams of 1,400 bytes.
        let (a, b) = MemLink::pair();
        let address =
            |last| Addressing::Static(Ipv4Config::default().address(Ipv4Addr::new(10, 0, 0, last)));
        let sender = DirectStack::connect(a, address(2)).await.unwrap();
        let receiver = DirectStack::connect(b, address(3)).await.unwrap();
        receiver.listen_udpv4(53, stalled);
        let server = receiver.clone();
        tokio::task::spawn_local(async move { server.listen().await });
        tokio::time::sleep(Duration::from_millis(100)).await;
        let before = rss();
        let udp = sender.udpv4();
        let payload = vec![7u8; 1_400];
        for _ in 0..30_000 {
            udp.write(Some(4000), Ipv4Addr::new(10, 0, 0, 3), 53, &payload)
                .await
                .unwrap();
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        let grown = rss().saturating_sub(before);
        let dropped = receiver.udp_dropped(53).unwrap() + receiver.frames_dropped();
        eprintln!("direct stack: +{} MiB, {dropped} dropped", grown / MIB);
        assert!(grown < 64 * MIB, "direct stack grew by {} MiB", grown / MIB);
        assert!(dropped > 0, "the drops are counted");
    });
}
