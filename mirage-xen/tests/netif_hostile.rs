//! Hostile peers on the network protocol: a frontend that sends garbage TX requests gets
//! answers (Netback never panics), and a backend that sends impossible RX responses makes
//! Netfront fail cleanly.

use mirage_net::MemLink;
use mirage_types::{NetError, Network, frame_handler};
use mirage_xen::abi::netif::*;
use mirage_xen::abi::xenbus::XenbusState;
use mirage_xen::back::Netback;
use mirage_xen::front::Netfront;
use mirage_xen::platform::sim::SimXen;
use mirage_xen::platform::{EventChannels, Grant, GrantTable, Port, Store};
use mirage_xen::ring::{BackRing, FrontRing};
use mirage_xen::xenbus::{DeviceKind, DevicePaths, create_device, wait_for_state, write_state};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    /// Whatever the TX requests say, each gets a response, and the backend closes cleanly.
    #[test]
    fn garbage_tx_requests_get_answers(
        requests in proptest::collection::vec(
            (any::<bool>(), any::<u16>(), any::<u16>(), any::<u16>()), 1..30),
    ) {
        let xen = SimXen::new();
        let (dom0, guest) = (xen.domain(0), xen.domain(5));
        mirage_unix::run(async {
            let paths = DevicePaths::new(DeviceKind::Vif, 5, 0, 0);
            create_device(&dom0, &paths, &[]).await.unwrap();
            let (bridge, _wire) = MemLink::pair();
            let backend = Netback::new(dom0.clone(), paths.clone(), bridge);
            let frontend = async {
                let tx_page = guest.share(0, false).unwrap();
                let rx_page = guest.share(0, false).unwrap();
                let data = guest.share(0, true).unwrap();
                let port = guest.alloc_unbound(0).unwrap();
                let front = &paths.frontend;
                for (node, value) in [
                    ("tx-ring-ref", tx_page.gref()),
                    ("rx-ring-ref", rx_page.gref()),
                    ("event-channel", port.number()),
                ] {
                    guest.write(0, &format!("{front}/{node}"), &value.to_string()).await.unwrap();
                }
                let mut tx: FrontRing<NetifTxRequest, NetifTxResponse, _> = FrontRing::init(tx_page).unwrap();
                let _rx: FrontRing<NetifRxRequest, NetifRxResponse, _> = FrontRing::init(rx_page).unwrap();
                write_state(&guest, front, XenbusState::Connected).await.unwrap();
                wait_for_state(&guest, &paths.backend, |s| s == XenbusState::Connected).await.unwrap();
                for (id, (real, offset, flags, size)) in requests.iter().enumerate() {
                    tx.push_request(NetifTxRequest {
                        gref: if *real { data.gref() } else { 9999 },
                        offset: *offset,
                        flags: *flags,
                        id: id as u16,
                        size: *size,
                    }).unwrap();
                    tx.push_requests_and_check_notify();
                    port.notify();
                    loop {
                        match tx.take_response().unwrap() {
                            Some(response) => {
                                assert_eq!(response.id, id as u16);
                                assert!(matches!(response.status, NETIF_RSP_OKAY | NETIF_RSP_ERROR));
                                break;
                            }
                            None => {
                                if !tx.final_check_for_responses().unwrap() {
                                    port.wait().await;
                                }
                            }
                        }
                    }
                }
                write_state(&guest, front, XenbusState::Closing).await.unwrap();
            };
            let (served, ()) = futures::join!(backend.serve(), frontend);
            served.unwrap();
        });
    }
}

#[test]
fn impossible_rx_responses_fail_netfront_cleanly() {
    let xen = SimXen::new();
    let (dom0, guest) = (xen.domain(0), xen.domain(5));
    mirage_unix::run(async {
        let paths = DevicePaths::new(DeviceKind::Vif, 5, 0, 0);
        create_device(&dom0, &paths, &[]).await.unwrap();
        dom0.write(0, &format!("{}/mac", paths.frontend), "00:16:3e:00:00:05")
            .await
            .unwrap();
        // A backend by hand: it answers an RX buffer that was never posted.
        let backend = async {
            write_state(&dom0, &paths.backend, XenbusState::InitWait)
                .await
                .unwrap();
            wait_for_state(&dom0, &paths.frontend, |s| s == XenbusState::Connected)
                .await
                .unwrap();
            let key = |node: &str| {
                let path = format!("{}/{node}", paths.frontend);
                let dom0 = &dom0;
                async move { dom0.read(0, &path).await.unwrap().parse::<u32>().unwrap() }
            };
            let mut rx: BackRing<NetifRxRequest, NetifRxResponse, _> =
                BackRing::attach(dom0.map(5, key("rx-ring-ref").await, true).unwrap()).unwrap();
            let port = dom0
                .bind_interdomain(5, key("event-channel").await)
                .unwrap();
            write_state(&dom0, &paths.backend, XenbusState::Connected)
                .await
                .unwrap();
            let _ = rx.take_request().unwrap();
            rx.push_response(NetifRxResponse {
                id: 60_000,
                offset: 0,
                flags: 0,
                status: 64,
            })
            .unwrap();
            rx.push_responses_and_check_notify();
            port.notify();
            (rx, port)
        };
        let (nic, _backend_side) = futures::join!(Netfront::connect(guest, 5, 0), backend);
        let nic = nic.unwrap();
        let listened = nic.listen(frame_handler(|_| async {})).await;
        assert!(
            matches!(listened, Err(NetError::Unknown(_))),
            "{listened:?}"
        );
        assert!(
            nic.write(&[0u8; 60]).await.is_err(),
            "the device is given up"
        );
    });
}
