#[allow(unused_imports)]
use crate::prelude::*;

use super::*;
use crate::abi::blkif::{BlkifRequest, BlkifResponse};
use crate::abi::netif::{NetifTxRequest, NetifTxResponse};
use proptest::prelude::*;

type BlkFront<'a> = FrontRing<BlkifRequest, BlkifResponse, &'a OwnedPage>;
type BlkBack<'a> = BackRing<BlkifRequest, BlkifResponse, &'a OwnedPage>;

fn request(id: u64) -> BlkifRequest {
    BlkifRequest {
        id,
        sector_number: id * 8,
        ..BlkifRequest::default()
    }
}

/// Runs `rounds` of a frontend and a backend trading requests and responses on one page,
/// starting every index at `start`; checks order, contents and notifications.
fn trade(start: u32, rounds: u64) {
    let page = OwnedPage::new();
    let mut front: BlkFront<'_> = FrontRing::init_at(&page, start).unwrap();
    let mut back: BlkBack<'_> = BackRing::attach(&page).unwrap();
    assert_eq!(front.size(), 32);
    let (mut sent, mut served, mut answered) = (0u64, 0u64, 0u64);
    for round in 0..rounds {
        // Pseudo-random batch sizes, deterministic.
        let batch = (round * 7 + 3) % 40;
        for _ in 0..batch {
            match front.push_request(request(sent)) {
                Ok(()) => sent += 1,
                Err(RingError::Full) => break,
                Err(other) => panic!("{other}"),
            }
        }
        // The backend said it was idle (final check), so a push must ask for a kick.
        let idle = !back.final_check_for_requests().unwrap();
        let notify = front.push_requests_and_check_notify();
        if idle && sent > served {
            assert!(
                notify,
                "round {round}: a request to an idle backend must notify"
            );
        }
        while let Some(taken) = back.take_request().unwrap() {
            assert_eq!(taken, request(served));
            served += 1;
            back.push_response(BlkifResponse {
                id: taken.id,
                ..BlkifResponse::default()
            })
            .unwrap();
        }
        back.push_responses_and_check_notify();
        while let Some(response) = front.take_response().unwrap() {
            assert_eq!(response.id, answered);
            answered += 1;
        }
        assert!(!front.final_check_for_responses().unwrap());
        assert_eq!(front.in_flight(), 0);
    }
    assert_eq!((served, answered), (sent, sent));
    assert!(sent > rounds);
}

#[test]
fn requests_and_responses_arrive_in_order() {
    trade(0, 500);
}

#[test]
fn indices_wrap_as_u32() {
    trade(u32::MAX - 40, 500);
}

#[test]
fn a_full_ring_refuses_more_requests() {
    let page = OwnedPage::new();
    let mut front: BlkFront<'_> = FrontRing::init(&page).unwrap();
    for id in 0..32 {
        front.push_request(request(id)).unwrap();
    }
    assert_eq!(front.push_request(request(32)), Err(RingError::Full));
    assert_eq!(front.free_requests(), 0);
}

#[test]
fn slots_are_unions_of_request_and_response() {
    let page = OwnedPage::new();
    let front: FrontRing<NetifTxRequest, NetifTxResponse, _> = FrontRing::init(&page).unwrap();
    assert_eq!(front.size(), 256);
    let tiny = OwnedPage::new();
    struct Short<'a>(&'a OwnedPage);
    // SAFETY: a prefix of a live page.
    unsafe impl SharedMemory for Short<'_> {
        fn as_ptr(&self) -> *mut u8 {
            self.0.as_ptr()
        }
        fn len(&self) -> usize {
            100
        }
    }
    let small: Result<BlkFront<'_>, _> = FrontRing::init(&tiny);
    assert!(small.is_ok());
    let too_small: Result<FrontRing<BlkifRequest, BlkifResponse, _>, _> =
        FrontRing::init(Short(&tiny));
    assert_eq!(too_small.err(), Some(RingError::TooSmall { bytes: 100 }));
}

/// Writes a shared index as a hostile peer would.
fn poke(page: &OwnedPage, offset: usize, value: u32) {
    // SAFETY: a u32 inside the page's header.
    unsafe { (page.as_ptr().add(offset) as *mut u32).write_volatile(value) }
}

#[test]
fn a_backend_answering_more_than_was_asked_is_caught() {
    let page = OwnedPage::new();
    let mut front: BlkFront<'_> = FrontRing::init(&page).unwrap();
    front.push_request(request(1)).unwrap();
    front.push_requests_and_check_notify();
    poke(&page, RSP_PROD, 2);
    assert!(matches!(
        front.take_response(),
        Err(RingError::PeerOverflow { published: 2, .. })
    ));
    poke(&page, RSP_PROD, 1);
    assert!(front.take_response().unwrap().is_some());
}

#[test]
fn a_frontend_running_ahead_of_the_ring_is_caught() {
    let page = OwnedPage::new();
    let _front: BlkFront<'_> = FrontRing::init(&page).unwrap();
    let mut back: BlkBack<'_> = BackRing::attach(&page).unwrap();
    poke(&page, REQ_PROD, 33);
    assert!(matches!(
        back.take_request(),
        Err(RingError::PeerOverflow { published: 33, .. })
    ));
    poke(&page, REQ_PROD, 32);
    for _ in 0..32 {
        assert!(back.take_request().unwrap().is_some());
    }
    // Every slot awaits a response: nothing more is taken until one is pushed.
    assert_eq!(back.take_request().unwrap(), None);
    assert_eq!(
        BackRing::<BlkifRequest, BlkifResponse, _>::attach(&page)
            .unwrap()
            .push_response(BlkifResponse::default()),
        Err(RingError::NothingToAnswer)
    );
}

proptest! {
    /// Whatever a hostile peer writes into the header and slots, both sides answer with a
    /// value or an error: never a panic, never more entries than the ring holds.
    #[test]
    fn hostile_headers_never_panic(
        header in proptest::collection::vec(any::<u32>(), 4),
        slots in proptest::collection::vec(any::<u8>(), 0..4032),
        pushes in 0u64..40,
    ) {
        let page = OwnedPage::new();
        let mut front: BlkFront<'_> = FrontRing::init(&page).unwrap();
        for id in 0..pushes {
            let _ = front.push_request(request(id));
        }
        front.push_requests_and_check_notify();
        // SAFETY: the bytes after the header, inside the page.
        unsafe { core::ptr::copy_nonoverlapping(slots.as_ptr(), page.as_ptr().add(64), slots.len()) };
        for (i, value) in header.iter().enumerate() {
            poke(&page, i * 4, *value);
        }
        let mut back: BlkBack<'_> = BackRing::attach(&page).unwrap();
        let mut taken = 0;
        while let Ok(Some(_)) = back.take_request() {
            taken += 1;
            prop_assert!(taken <= back.size());
            let _ = back.push_response(BlkifResponse::default());
        }
        let mut answered = 0;
        while let Ok(Some(_)) = front.take_response() {
            answered += 1;
            prop_assert!(answered <= front.size());
        }
        let _ = front.final_check_for_responses();
        let _ = back.final_check_for_requests();
    }
}
