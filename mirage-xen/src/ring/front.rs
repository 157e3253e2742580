//! The frontend's side of a ring: it produces requests and consumes responses.

#[allow(unused_imports)]
use crate::prelude::*;

use super::{REQ_PROD, RSP_EVENT, RSP_PROD, RingEntry, RingError, Shared, SharedMemory, crosses};
use core::sync::atomic::{Ordering, fence};

/// The frontend's view of a shared ring (`*_front_ring`).
pub struct FrontRing<Req, Rsp, M> {
    shared: Shared<Req, Rsp, M>,
    /// Requests written but maybe not yet published.
    req_prod_pvt: u32,
    /// Responses taken.
    rsp_cons: u32,
}

impl<Req: RingEntry, Rsp: RingEntry, M: SharedMemory> FrontRing<Req, Rsp, M> {
    /// Initialises the ring in `memory` (`SHARED_RING_INIT` then `FRONT_RING_INIT`): the
    /// frontend makes the ring, the backend attaches to it.
    pub fn init(memory: M) -> Result<Self, RingError> {
        let shared = Shared::new(memory)?;
        shared.init();
        Ok(FrontRing {
            shared,
            req_prod_pvt: 0,
            rsp_cons: 0,
        })
    }

    /// A frontend whose indices all start at `index` (tests of wrapping arithmetic).
    #[cfg(test)]
    pub(super) fn init_at(memory: M, index: u32) -> Result<Self, RingError> {
        let ring = Self::init(memory)?;
        for offset in [REQ_PROD, RSP_PROD] {
            ring.shared.store(offset, index);
        }
        for offset in [super::REQ_EVENT, RSP_EVENT] {
            ring.shared.store(offset, index.wrapping_add(1));
        }
        Ok(FrontRing {
            req_prod_pvt: index,
            rsp_cons: index,
            ..ring
        })
    }

    /// Slots in the ring.
    pub fn size(&self) -> u32 {
        self.shared.size
    }

    /// The memory underneath.
    pub fn memory(&self) -> &M {
        &self.shared.memory
    }

    /// Requests that may still be written before responses free their slots.
    pub fn free_requests(&self) -> u32 {
        self.shared.size - self.req_prod_pvt.wrapping_sub(self.rsp_cons)
    }

    /// Requests made and not yet answered.
    pub fn in_flight(&self) -> u32 {
        self.req_prod_pvt.wrapping_sub(self.rsp_cons)
    }

    /// Writes `request` to the next slot, unpublished until
    /// [`FrontRing::push_requests_and_check_notify`].
    pub fn push_request(&mut self, request: Req) -> Result<(), RingError> {
        if self.free_requests() == 0 {
            return Err(RingError::Full);
        }
        self.shared.write(self.req_prod_pvt, request);
        self.req_prod_pvt = self.req_prod_pvt.wrapping_add(1);
        Ok(())
    }

    /// Publishes the requests written (`RING_PUSH_REQUESTS_AND_CHECK_NOTIFY`), returning
    /// whether the backend asked to be notified of them.
    pub fn push_requests_and_check_notify(&mut self) -> bool {
        let old = self.shared.load(REQ_PROD);
        let new = self.req_prod_pvt;
        self.shared.store(REQ_PROD, new);
        fence(Ordering::SeqCst);
        crosses(new, old, self.shared.load(super::REQ_EVENT))
    }

    /// The backend's published response producer, checked: it may not claim more responses
    /// than there are requests in flight.
    fn responses_published(&self) -> Result<u32, RingError> {
        let published = self.shared.load(RSP_PROD);
        let waiting = published.wrapping_sub(self.rsp_cons);
        if waiting > self.in_flight() {
            return Err(RingError::PeerOverflow {
                published,
                consumed: self.rsp_cons,
                size: self.shared.size,
            });
        }
        Ok(waiting)
    }

    /// Responses published and not yet taken.
    pub fn unconsumed_responses(&self) -> Result<u32, RingError> {
        self.responses_published()
    }

    /// Takes the next response, if the backend published one.
    pub fn take_response(&mut self) -> Result<Option<Rsp>, RingError> {
        if self.responses_published()? == 0 {
            return Ok(None);
        }
        let response = self.shared.read(self.rsp_cons);
        self.rsp_cons = self.rsp_cons.wrapping_add(1);
        Ok(Some(response))
    }

    /// Whether responses are waiting, after asking the backend to notify at the next one if
    /// none are (`RING_FINAL_CHECK_FOR_RESPONSES`): call before sleeping on the event
    /// channel, so a response published meanwhile is not missed.
    pub fn final_check_for_responses(&mut self) -> Result<bool, RingError> {
        if self.responses_published()? > 0 {
            return Ok(true);
        }
        self.shared.store(RSP_EVENT, self.rsp_cons.wrapping_add(1));
        fence(Ordering::SeqCst);
        Ok(self.responses_published()? > 0)
    }
}
