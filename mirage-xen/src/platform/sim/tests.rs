#[allow(unused_imports)]
use crate::prelude::*;

use super::*;
use crate::abi::blkif::{BlkifRequest, BlkifResponse};
use crate::platform::{Access, Grant, Permission, Port, Store, Watch};
use crate::ring::{BackRing, FrontRing};
use futures::executor::block_on;

#[test]
fn a_ring_between_two_domains_with_grants_and_an_event_channel() {
    let xen = SimXen::new();
    let (front_dom, back_dom) = (xen.domain(5), xen.domain(0));
    block_on(async {
        let page = front_dom.share(0, false).unwrap();
        let port = front_dom.alloc_unbound(0).unwrap();
        let gref = page.gref();
        assert!(gref >= 8, "reserved grant references are not handed out");
        let mut front: FrontRing<BlkifRequest, BlkifResponse, _> = FrontRing::init(page).unwrap();

        let mapping = back_dom.map(5, gref, true).unwrap();
        let back_port = back_dom.bind_interdomain(5, port.number()).unwrap();
        let mut back: BackRing<BlkifRequest, BlkifResponse, _> = BackRing::attach(mapping).unwrap();

        front
            .push_request(BlkifRequest {
                id: 7,
                ..Default::default()
            })
            .unwrap();
        assert!(front.push_requests_and_check_notify());
        port.notify();
        back_port.wait().await;
        let request = back.take_request().unwrap().unwrap();
        assert_eq!(request.id, 7);
        back.push_response(BlkifResponse {
            id: request.id,
            ..Default::default()
        })
        .unwrap();
        assert!(back.push_responses_and_check_notify());
        back_port.notify();
        port.wait().await;
        assert_eq!(front.take_response().unwrap().unwrap().id, 7);

        assert!(!xen.leaks().is_empty());
        drop((back, back_port));
        drop((front, port));
    });
    assert_eq!(xen.leaks(), Vec::<String>::new());
}

#[test]
fn grants_are_checked_and_leaks_reported() {
    let xen = SimXen::new();
    let (a, b, c) = (xen.domain(1), xen.domain(2), xen.domain(3));
    let grant = a.share(2, true).unwrap();
    assert!(matches!(
        b.map(1, grant.gref(), true),
        Err(XenError::PermissionDenied(_))
    ));
    assert!(matches!(
        c.map(1, grant.gref(), false),
        Err(XenError::NotFound(_))
    ));
    assert!(matches!(b.map(1, 9999, false), Err(XenError::NotFound(_))));
    let mapping = b.map(1, grant.gref(), false).unwrap();
    // Ending a grant still mapped is a leak on Xen: it is reported.
    drop(grant);
    drop(mapping);
    let leaks = xen.leaks();
    assert_eq!(leaks.len(), 1, "{leaks:?}");
    assert!(leaks[0].contains("ended while mapped"));
}

#[test]
fn injected_faults_fail_once() {
    let xen = SimXen::new();
    let a = xen.domain(1);
    xen.fail_next(Op::Share);
    assert!(a.share(0, false).is_err());
    let grant = a.share(0, false).unwrap();
    xen.fail_next(Op::AllocUnbound);
    assert!(a.alloc_unbound(0).is_err());
    let port = a.alloc_unbound(0).unwrap();
    drop((grant, port));
    assert!(xen.leaks().is_empty());
}

#[test]
fn ports_bind_only_for_their_domain_and_a_closed_peer_ends_waits() {
    let xen = SimXen::new();
    let (a, b, c) = (xen.domain(1), xen.domain(2), xen.domain(3));
    let port = a.alloc_unbound(2).unwrap();
    assert!(matches!(
        c.bind_interdomain(1, port.number()),
        Err(XenError::PermissionDenied(_))
    ));
    let bound = b.bind_interdomain(1, port.number()).unwrap();
    assert!(
        b.bind_interdomain(1, port.number()).is_err(),
        "bound once only"
    );
    drop(bound);
    block_on(port.wait()); // the peer closed: the wait ends
    drop(port);
    assert!(xen.leaks().is_empty());
}

#[test]
fn the_store_keeps_permissions_transactions_and_watches() {
    let xen = SimXen::new();
    let (dom0, guest) = (xen.domain(0), xen.domain(5));
    block_on(async {
        // A guest writes in its home with relative paths; it owns what it makes.
        guest.write(0, "device/vif/0/state", "1").await.unwrap();
        assert_eq!(
            dom0.read(0, "/local/domain/5/device/vif/0/state")
                .await
                .unwrap(),
            "1"
        );
        let perms = guest.get_perms(0, "device/vif/0/state").await.unwrap();
        assert_eq!(perms[0].domain, 5);
        // Another domain's home is closed to it; dom0 sees everything.
        assert!(matches!(
            guest.read(0, "/local/domain/0").await,
            Err(XenError::PermissionDenied(_))
        ));
        dom0.write(0, "/local/domain/0/backend/vif/5/0/state", "2")
            .await
            .unwrap();
        dom0.set_perms(
            0,
            "/local/domain/0/backend/vif/5/0",
            &[
                Permission {
                    domain: 0,
                    access: Access::None,
                },
                Permission {
                    domain: 5,
                    access: Access::Read,
                },
            ],
        )
        .await
        .unwrap();
        assert!(
            guest
                .directory(0, "/local/domain/0/backend/vif/5/0")
                .await
                .is_ok()
        );
        assert!(matches!(
            guest
                .write(0, "/local/domain/0/backend/vif/5/0/x", "1")
                .await,
            Err(XenError::PermissionDenied(_))
        ));
        // Bad paths are EINVAL, as xenstored answers.
        for bad in ["/bad//path", "/trailing/", "/spa ce"] {
            assert_eq!(
                dom0.write(0, bad, "v").await,
                Err(XenError::Store("EINVAL".into()))
            );
        }
        // rm: absent is fine, an absent parent is not.
        dom0.rm(0, "/local/domain/5/nothing").await.unwrap();
        assert!(dom0.rm(0, "/no/such/parent").await.is_err());

        // Watches fire at once, then for changes at or under their path.
        let watch = guest.watch("device").await.unwrap();
        assert_eq!(watch.next().await.unwrap(), "device");
        dom0.write(0, "/local/domain/5/device/vif/0/state", "4")
            .await
            .unwrap();
        assert_eq!(watch.next().await.unwrap(), "device/vif/0/state");

        // Transactions: a commit after another change conflicts; a clean one lands.
        let tx = guest.transaction_start().await.unwrap();
        guest.write(tx, "device/vif/0/ring-ref", "8").await.unwrap();
        assert!(guest.read(0, "device/vif/0/ring-ref").await.is_err());
        dom0.write(0, "/local/domain/0/other", "x").await.unwrap();
        assert_eq!(guest.transaction_end(tx, true).await, Err(XenError::Again));
        let tx = guest.transaction_start().await.unwrap();
        guest.write(tx, "device/vif/0/ring-ref", "8").await.unwrap();
        guest
            .write(tx, "device/vif/0/event-channel", "3")
            .await
            .unwrap();
        guest.transaction_end(tx, true).await.unwrap();
        assert_eq!(
            guest.read(0, "device/vif/0/event-channel").await.unwrap(),
            "3"
        );
        // The watch saw the committed writes.
        let mut seen = Vec::new();
        for _ in 0..2 {
            seen.push(watch.next().await.unwrap());
        }
        assert!(
            seen.contains(&"device/vif/0/ring-ref".to_string()),
            "{seen:?}"
        );
        drop(watch);
    });
    assert!(xen.leaks().is_empty(), "{:?}", xen.leaks());
}
