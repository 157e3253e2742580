//! Frames through a `Recorded` device land in a well-formed pcap file.

use mirage_net::{Addressing, DirectStack, MemLink, Recorded};
use mirage_types::{Ipv4Config, StackV4, Udpv4};
use std::net::Ipv4Addr;
use std::time::Duration;

#[test]
fn both_directions_are_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("frames.pcap");
    mirage_unix::run(async {
        let (a, b) = MemLink::pair();
        let recorded = Recorded::new(a, &path).unwrap();
        let config = |last| {
            Addressing::Static(Ipv4Config::new(
                Ipv4Addr::new(10, 0, 0, last),
                Ipv4Config::default().netmask,
                Ipv4Config::default().gateways,
            ))
        };
        let a = DirectStack::connect(recorded, config(2)).await.unwrap();
        let b = DirectStack::connect(b, config(3)).await.unwrap();
        let udp = b.udpv4();
        // Callbacks run while `listen` does.
        tokio::task::spawn_local({
            let stack = b.clone();
            async move { stack.listen().await }
        });
        b.listen_udpv4(53, move |d| {
            let udp = udp.clone();
            async move {
                udp.write(Some(53), d.src, d.src_port, b"reply")
                    .await
                    .unwrap()
            }
        });
        a.udpv4()
            .write(Some(4000), Ipv4Addr::new(10, 0, 0, 3), 53, b"query")
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
    });
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(&bytes[..4], &0xa1b2_c3d4u32.to_le_bytes());
    assert_eq!(&bytes[20..24], &1u32.to_le_bytes(), "Ethernet link type");
    let mut frames = Vec::new();
    let mut at = 24;
    while at < bytes.len() {
        let kept = u32::from_le_bytes(bytes[at + 8..at + 12].try_into().unwrap()) as usize;
        frames.push(&bytes[at + 16..at + 16 + kept]);
        at += 16 + kept;
    }
    assert_eq!(at, bytes.len(), "records tile the file");
    // ARP both ways, then the query out and the reply in.
    assert!(frames.iter().any(|f| f.ends_with(b"query")));
    assert!(frames.iter().any(|f| f.ends_with(b"reply")));
    assert!(frames.iter().any(|f| f[12..14] == [0x08, 0x06]));
}
