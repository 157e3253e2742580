//! Hostile peers on the block protocol: a backend that answers ids never asked, sends bad
//! statuses and moves its producer past the ring; a frontend that sends garbage requests.
//! Each side answers with errors, never a panic or a hang.

use mirage_block::MemBlock;
use mirage_types::{Block, BlockError};
use mirage_xen::abi::blkif::*;
use mirage_xen::abi::xenbus::XenbusState;
use mirage_xen::back::Blkback;
use mirage_xen::front::Blkfront;
use mirage_xen::platform::sim::{SimDomain, SimXen};
use mirage_xen::platform::{EventChannels, Grant, GrantTable, Port, Store};
use mirage_xen::ring::{BackRing, FrontRing, SharedMemory};
use mirage_xen::xenbus::{DeviceKind, DevicePaths, create_device, wait_for_state, write_state};
use proptest::prelude::*;

const XVDA: u32 = 51712;

/// Plays a backend by hand up to Connected; returns its ring and port.
async fn fake_backend(
    dom0: &SimDomain,
    paths: &DevicePaths,
) -> (
    BackRing<BlkifRequest, BlkifResponse, <SimDomain as GrantTable>::Mapping>,
    <SimDomain as EventChannels>::Port,
) {
    let back = &paths.backend;
    dom0.write(0, &format!("{back}/sectors"), "64")
        .await
        .unwrap();
    dom0.write(0, &format!("{back}/sector-size"), "512")
        .await
        .unwrap();
    write_state(dom0, back, XenbusState::InitWait)
        .await
        .unwrap();
    wait_for_state(dom0, &paths.frontend, |s| s == XenbusState::Initialised)
        .await
        .unwrap();
    let key = |node: &str| {
        let path = format!("{}/{node}", paths.frontend);
        async move { dom0.read(0, &path).await.unwrap().parse::<u32>().unwrap() }
    };
    let ring = BackRing::attach(dom0.map(5, key("ring-ref").await, true).unwrap()).unwrap();
    let port = dom0
        .bind_interdomain(5, key("event-channel").await)
        .unwrap();
    write_state(dom0, back, XenbusState::Connected)
        .await
        .unwrap();
    (ring, port)
}

/// The ring and port of a frontend played by hand.
type HandFrontend = (
    FrontRing<BlkifRequest, BlkifResponse, <SimDomain as GrantTable>::Grant>,
    <SimDomain as EventChannels>::Port,
);

/// Plays a frontend by hand in domain 5: shares a ring page and a port, writes their keys
/// and `nodes`, says `state`, and waits until the backend is Connected.
async fn hand_frontend(
    guest: &SimDomain,
    paths: &DevicePaths,
    nodes: &[(&str, &str)],
    state: XenbusState,
) -> HandFrontend {
    let ring_page = guest.share(0, false).unwrap();
    let port = guest.alloc_unbound(0).unwrap();
    let keys = [
        ("ring-ref", ring_page.gref().to_string()),
        ("event-channel", port.number().to_string()),
    ];
    let nodes = keys
        .iter()
        .map(|(node, value)| (*node, value.as_str()))
        .chain(nodes.iter().copied());
    for (node, value) in nodes {
        let path = format!("{}/{node}", paths.frontend);
        guest.write(0, &path, value).await.unwrap();
    }
    let ring = FrontRing::init(ring_page).unwrap();
    write_state(guest, &paths.frontend, state).await.unwrap();
    wait_for_state(guest, &paths.backend, |s| s == XenbusState::Connected)
        .await
        .unwrap();
    (ring, port)
}

/// Sends `request` and waits for the next response.
async fn exchange((ring, port): &mut HandFrontend, request: BlkifRequest) -> BlkifResponse {
    ring.push_request(request).unwrap();
    ring.push_requests_and_check_notify();
    port.notify();
    loop {
        if let Some(response) = ring.take_response().unwrap() {
            return response;
        }
        if !ring.final_check_for_responses().unwrap() {
            port.wait().await;
        }
    }
}

/// A frontend in domain 5 against a backend played by hand: `backend` answers the first
/// request its own way, `frontend` checks what the reads give.
fn against_a_lying_backend(
    lie: impl AsyncFnOnce(
        &mut BackRing<BlkifRequest, BlkifResponse, <SimDomain as GrantTable>::Mapping>,
        BlkifRequest,
    ) -> bool,
    check: impl AsyncFnOnce(&Blkfront<SimDomain>),
) {
    let xen = SimXen::new();
    let (dom0, guest) = (xen.domain(0), xen.domain(5));
    mirage_unix::run(async {
        let paths = DevicePaths::new(DeviceKind::Vbd, 5, 0, XVDA);
        create_device(&dom0, &paths, &[]).await.unwrap();
        let (front, (mut ring, port)) = futures::join!(
            Blkfront::connect(guest, 5, XVDA),
            fake_backend(&dom0, &paths)
        );
        let front = front.unwrap();
        let backend = async {
            let request = loop {
                if let Some(request) = ring.take_request().unwrap() {
                    break request;
                }
                if !ring.final_check_for_requests().unwrap() {
                    port.wait().await;
                }
            };
            if lie(&mut ring, request).await {
                ring.push_responses_and_check_notify();
            }
            port.notify();
        };
        futures::join!(backend, check(&front));
    });
}

#[test]
fn an_answer_to_a_request_never_made_gives_up_the_device() {
    against_a_lying_backend(
        async |ring, request| {
            ring.push_response(BlkifResponse {
                id: request.id + 1000,
                ..Default::default()
            })
            .unwrap();
            true
        },
        async |front| {
            let mut sector = vec![0u8; 512];
            let read = front.read(0, &mut [&mut sector]).await;
            assert!(matches!(read, Err(BlockError::Unknown(_))), "{read:?}");
            assert_eq!(
                front.read(1, &mut [&mut sector]).await,
                Err(BlockError::Disconnected)
            );
        },
    );
}

#[test]
fn a_producer_moved_past_the_ring_gives_up_the_device() {
    against_a_lying_backend(
        async |ring, _request| {
            // SAFETY: rsp_prod, at offset 8 of the shared page.
            unsafe { (ring.memory().as_ptr().add(8) as *mut u32).write_volatile(1_000_000) };
            false
        },
        async |front| {
            let mut sector = vec![0u8; 512];
            let read = front.read(0, &mut [&mut sector]).await;
            assert!(read.is_err(), "{read:?}");
            assert_eq!(
                front.read(1, &mut [&mut sector]).await,
                Err(BlockError::Disconnected)
            );
        },
    );
}

#[test]
fn a_bad_status_is_an_error_for_that_request_only() {
    against_a_lying_backend(
        async |ring, request| {
            ring.push_response(BlkifResponse {
                id: request.id,
                status: -7,
                ..Default::default()
            })
            .unwrap();
            true
        },
        async |front| {
            let mut sector = vec![0u8; 512];
            let read = front.read(0, &mut [&mut sector]).await;
            match read {
                Err(BlockError::Unknown(why)) => assert!(why.contains("-7"), "{why}"),
                other => panic!("{other:?}"),
            }
        },
    );
}

/// A request with fields drawn at random, some grant references real.
fn arbitrary_request() -> impl Strategy<Value = (u8, u8, u64, Vec<(bool, u8, u8)>)> {
    (
        0u8..8,
        0u8..14,
        any::<u64>(),
        proptest::collection::vec((any::<bool>(), 0u8..10, 0u8..10), 11),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    /// Whatever a frontend puts in its requests, the backend answers each one (or stops
    /// with an error) and never panics; then it closes when asked.
    #[test]
    fn a_frontend_sending_garbage_gets_answers(requests in proptest::collection::vec(arbitrary_request(), 1..20)) {
        let xen = SimXen::new();
        let (dom0, guest) = (xen.domain(0), xen.domain(5));
        mirage_unix::run(async {
            let paths = DevicePaths::new(DeviceKind::Vbd, 5, 0, XVDA);
            create_device(&dom0, &paths, &[]).await.unwrap();
            let backend = Blkback::new(dom0.clone(), paths.clone(), MemBlock::new(512, 64).unwrap());
            let frontend = async {
                let data = guest.share(0, false).unwrap();
                let mut front = hand_frontend(&guest, &paths, &[], XenbusState::Connected).await;
                let mut answered = 0;
                for (id, (operation, nr_segments, sector, segments)) in requests.iter().enumerate() {
                    let mut seg = [BlkifRequestSegment::default(); 11];
                    for (slot, (real, first, last)) in seg.iter_mut().zip(segments) {
                        *slot = BlkifRequestSegment {
                            gref: if *real { data.gref() } else { 4000 },
                            first_sect: *first,
                            last_sect: *last,
                            pad: [0; 2],
                        };
                    }
                    let response = exchange(&mut front, BlkifRequest {
                        operation: *operation,
                        nr_segments: *nr_segments,
                        id: id as u64,
                        sector_number: *sector,
                        seg,
                        ..Default::default()
                    }).await;
                    assert_eq!(response.id, id as u64);
                    answered += 1;
                }
                assert_eq!(answered, requests.len());
                write_state(&guest, &paths.frontend, XenbusState::Closing).await.unwrap();
                drop((front, data));
            };
            let (served, ()) = futures::join!(backend.serve(), frontend);
            served.unwrap();
        });
    }
}

#[test]
fn a_backend_that_never_answers_times_out() {
    let xen = SimXen::new();
    let (dom0, guest) = (xen.domain(0), xen.domain(5));
    mirage_unix::run(async {
        let paths = DevicePaths::new(DeviceKind::Vbd, 5, 0, XVDA);
        create_device(&dom0, &paths, &[]).await.unwrap();
        let (front, (_ring, _port)) = futures::join!(
            Blkfront::connect(guest, 5, XVDA),
            fake_backend(&dom0, &paths)
        );
        let front = front
            .unwrap()
            .with_timeout(mirage_unix::UnixTime, std::time::Duration::from_millis(200));
        let started = std::time::Instant::now();
        let mut sector = vec![0u8; 512];
        let read = front.read(0, &mut [&mut sector]).await;
        assert!(matches!(read, Err(BlockError::Timeout(_))), "{read:?}");
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        assert_eq!(read.unwrap_err().kind(), mirage_types::ErrorKind::Timeout);
        assert_eq!(
            front.read(1, &mut [&mut sector]).await,
            Err(BlockError::Disconnected)
        );
    });
}

/// A frontend that asks for persistent grants (as Linux's always does) from a backend that
/// does not offer them ends each grant once its request is answered: the backend must have
/// let go of the page by then, or the frontend's grant ends while still mapped (Linux's
/// blkfront fails the request: "backend has not unmapped grant").
#[test]
fn grants_not_offered_as_persistent_are_unmapped_with_each_response() {
    let xen = SimXen::new();
    let (dom0, guest) = (xen.domain(0), xen.domain(5));
    mirage_unix::run(async {
        let paths = DevicePaths::new(DeviceKind::Vbd, 5, 0, XVDA);
        create_device(&dom0, &paths, &[]).await.unwrap();
        let backend = Blkback::new(dom0.clone(), paths.clone(), MemBlock::new(512, 64).unwrap());
        let frontend = async {
            wait_for_state(&guest, &paths.backend, |s| s == XenbusState::InitWait)
                .await
                .unwrap();
            let offered = guest
                .read(0, &format!("{}/feature-persistent", paths.backend))
                .await
                .unwrap_or_default();
            assert_ne!(
                offered.trim(),
                "1",
                "this test is for a backend not offering them"
            );
            let mut front = hand_frontend(
                &guest,
                &paths,
                &[("feature-persistent", "1")],
                XenbusState::Initialised,
            )
            .await;
            for id in 0..3u64 {
                let data = guest.share(0, false).unwrap();
                let mut seg = [BlkifRequestSegment::default(); 11];
                seg[0] = BlkifRequestSegment {
                    gref: data.gref(),
                    first_sect: 0,
                    last_sect: 7,
                    pad: [0; 2],
                };
                let response = exchange(
                    &mut front,
                    BlkifRequest {
                        operation: BLKIF_OP_WRITE,
                        nr_segments: 1,
                        id,
                        sector_number: id * 8,
                        seg,
                        ..Default::default()
                    },
                )
                .await;
                assert_eq!(response.status, BLKIF_RSP_OKAY);
                drop(data);
                assert_eq!(
                    xen.leaks()
                        .into_iter()
                        .filter(|leak| leak.contains("ended while mapped"))
                        .collect::<Vec<_>>(),
                    Vec::<String>::new(),
                    "request {id}: the backend still maps a page whose request was answered"
                );
            }
            write_state(&guest, &paths.frontend, XenbusState::Closing)
                .await
                .unwrap();
            drop(front);
        };
        let (served, ()) = futures::join!(backend.serve(), frontend);
        served.unwrap();
    });
}
