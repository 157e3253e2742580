//! Netfront and Netback together over the simulated hypervisor: a direct stack in a guest
//! on Netfront talks to a direct stack in dom0 on the other end of the backend's link.

use mirage_net::{Addressing, DirectStack, MemLink};
use mirage_types::{Device, Flow, Ipv4Config, Network, Read, StackV4, TcpListener, Tcpv4};
use mirage_xen::back::Netback;
use mirage_xen::front::Netfront;
use mirage_xen::platform::Store;
use mirage_xen::platform::sim::SimXen;
use mirage_xen::xenbus::{DeviceKind, DevicePaths, create_device};
use std::net::Ipv4Addr;

fn address(last: u8) -> Addressing {
    Addressing::Static(Ipv4Config::default().address(Ipv4Addr::new(10, 0, 0, last)))
}

#[test]
fn ten_mebibytes_cross_netfront_and_netback_intact() {
    let xen = SimXen::new();
    let (dom0, guest) = (xen.domain(0), xen.domain(6));
    mirage_unix::run(async {
        let paths = DevicePaths::new(DeviceKind::Vif, 6, 0, 0);
        create_device(&dom0, &paths, &[("mac", "00:16:3e:00:00:06")])
            .await
            .unwrap();
        dom0.write(0, &format!("{}/mac", paths.frontend), "00:16:3e:00:00:06")
            .await
            .unwrap();
        let (bridge, wire) = MemLink::pair();
        let backend = std::rc::Rc::new(Netback::new(dom0.clone(), paths, bridge));
        let serving = backend.clone();
        let served = tokio::task::spawn_local(async move { serving.serve().await });

        let nic = Netfront::connect(guest, 6, 0).await.unwrap();
        assert_eq!(nic.mac().to_string(), "00:16:3e:00:00:06");
        let guest_stack = DirectStack::connect(nic, address(2)).await.unwrap();
        let dom0_stack = DirectStack::connect(wire, address(1)).await.unwrap();

        let listener = guest_stack.bind_tcpv4(7000).await.unwrap();
        let data: Vec<u8> = (0..10 << 20).map(|i: usize| (i * 7 % 251) as u8).collect();
        let tcp = dom0_stack.tcpv4();
        let sender = async {
            let flow = tcp
                .create_connection(std::net::SocketAddrV4::new(
                    Ipv4Addr::new(10, 0, 0, 2),
                    7000,
                ))
                .await
                .unwrap();
            for chunk in data.chunks(64 * 1024) {
                flow.write(chunk).await.unwrap();
            }
            flow.close().await.unwrap();
            // Wait for the guest's end before dropping the flow.
            let _ = flow.read().await;
        };
        let receiver = async {
            let flow = listener.accept().await.unwrap();
            let mut got = Vec::with_capacity(data.len());
            while let Read::Data(bytes) = flow.read().await.unwrap() {
                got.extend_from_slice(&bytes);
            }
            flow.close().await.unwrap();
            got
        };
        let ((), got) = futures::join!(sender, receiver);
        assert_eq!(got.len(), data.len());
        assert!(got == data, "the bytes differ");
        assert_eq!(backend.dropped(), 0);

        drop(listener);
        guest_stack.disconnect().await;
        dom0_stack.disconnect().await;
        served.await.unwrap().unwrap();
    });
    assert_eq!(xen.leaks(), Vec::<String>::new());
}
