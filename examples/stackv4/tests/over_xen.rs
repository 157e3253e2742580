//! The same stackv4 `Main` over Xen: a direct stack on a Netfront in a guest, its backend
//! bridged to an in-memory link whose other end is a direct stack in dom0 sending the
//! tutorial's datagram and connection (in the simulated hypervisor).

use mir_stackv4::palette::Palette;
use mir_stackv4::unikernel::Main;
use mirage_console::MemConsole;
use mirage_net::{Addressing, DirectStack, MemLink};
use mirage_types::{Device, Flow, Ipv4Config, StackV4, Tcpv4, Udpv4};
use mirage_xen::back::Netback;
use mirage_xen::front::Netfront;
use mirage_xen::platform::Store;
use mirage_xen::platform::sim::SimXen;
use mirage_xen::xenbus::{DeviceKind, DevicePaths, create_device};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

fn address(last: u8) -> Addressing {
    Addressing::Static(Ipv4Config::default().address(Ipv4Addr::new(10, 0, 0, last)))
}

#[test]
fn stackv4_over_netfront_prints_the_tutorial_lines() {
    let xen = SimXen::new();
    let (dom0, guest) = (xen.domain(0), xen.domain(4));
    let console = MemConsole::new();
    mirage_unix::run(async {
        let paths = DevicePaths::new(DeviceKind::Vif, 4, 0, 0);
        create_device(&dom0, &paths, &[]).await.unwrap();
        dom0.write(0, &format!("{}/mac", paths.frontend), "00:16:3e:00:00:04")
            .await
            .unwrap();
        let (bridge, wire) = MemLink::pair();
        let backend = std::rc::Rc::new(Netback::new(dom0.clone(), paths, bridge));
        let serving = backend.clone();
        let served = tokio::task::spawn_local(async move { serving.serve().await });

        let nic = Netfront::connect(guest, 4, 0).await.unwrap();
        let stack = DirectStack::connect(nic, address(2)).await.unwrap();
        let peer = DirectStack::connect(wire, address(1)).await.unwrap();
        let main = Main::new(
            console.clone(),
            stack.clone(),
            Palette::new(false),
            53,
            8080,
        );
        let unikernel = tokio::task::spawn_local(async move { main.start().await });

        // dom0's side: a datagram to 53, a connection to 8080 with a line.
        let udp = peer.udpv4();
        let tcp = peer.tcpv4();
        while !console.output().contains("UDP ") {
            udp.write(
                Some(40053),
                Ipv4Addr::new(10, 0, 0, 2),
                53,
                b"hello udp world",
            )
            .await
            .unwrap();
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let flow = loop {
            match tcp
                .create_connection(SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 2), 8080))
                .await
            {
                Ok(flow) => break flow,
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        };
        flow.write(b"hello tcp world").await.unwrap();
        while !console.output().contains("read: ") {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        drop(flow);
        stack.disconnect().await;
        peer.disconnect().await;
        let _ = unikernel.await;
        served.await.unwrap().unwrap();
    });
    let output = console.output();
    let lines: Vec<&str> = output.lines().collect();
    assert_eq!(lines[0], "IP address: 10.0.0.2");
    assert!(
        lines.contains(&"UDP 10.0.0.1:40053 > 10.0.0.2:53: \"hello udp world\""),
        "{output}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("TCP 10.0.0.1:") && l.ends_with(" > _:8080")),
        "{output}"
    );
    assert!(lines.contains(&"read: 15 \"hello tcp world\""), "{output}");
    assert_eq!(xen.leaks(), Vec::<String>::new());
}
