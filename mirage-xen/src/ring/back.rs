//! The backend's side of a ring: it consumes requests and produces responses.

#[allow(unused_imports)]
use crate::prelude::*;

use super::{
    REQ_EVENT, REQ_PROD, RSP_EVENT, RSP_PROD, RingEntry, RingError, Shared, SharedMemory, crosses,
};
use core::sync::atomic::{Ordering, fence};

/// The backend's view of a shared ring (`*_back_ring`).
pub struct BackRing<Req, Rsp, M> {
    shared: Shared<Req, Rsp, M>,
    /// Responses written but maybe not yet published.
    rsp_prod_pvt: u32,
    /// Requests taken.
    req_cons: u32,
}

impl<Req: RingEntry, Rsp: RingEntry, M: SharedMemory> BackRing<Req, Rsp, M> {
    /// Attaches to a ring the frontend initialised (`BACK_RING_INIT`), starting where its
    /// published indices are.
    pub fn attach(memory: M) -> Result<Self, RingError> {
        let shared = Shared::new(memory)?;
        let start = shared.load(RSP_PROD);
        Ok(BackRing {
            shared,
            rsp_prod_pvt: start,
            req_cons: start,
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

    /// Requests published and not yet taken, checked: the frontend may not be more than a
    /// ring ahead of the responses it was given (`RING_REQUEST_PROD_OVERFLOW`).
    pub fn unconsumed_requests(&self) -> Result<u32, RingError> {
        let published = self.shared.load(REQ_PROD);
        if published.wrapping_sub(self.rsp_prod_pvt) > self.shared.size {
            return Err(RingError::PeerOverflow {
                published,
                consumed: self.req_cons,
                size: self.shared.size,
            });
        }
        let waiting = published.wrapping_sub(self.req_cons);
        // `RING_HAS_UNCONSUMED_REQUESTS`: never more than the slots not awaiting a response.
        let room = self
            .shared
            .size
            .wrapping_sub(self.req_cons.wrapping_sub(self.rsp_prod_pvt));
        Ok(waiting.min(room))
    }

    /// Takes the next request, copied out of its slot before anything looks at it.
    pub fn take_request(&mut self) -> Result<Option<Req>, RingError> {
        if self.unconsumed_requests()? == 0 {
            return Ok(None);
        }
        let request = self.shared.read(self.req_cons);
        self.req_cons = self.req_cons.wrapping_add(1);
        Ok(Some(request))
    }

    /// Writes the response to the oldest request not yet answered, unpublished until
    /// [`BackRing::push_responses_and_check_notify`].
    pub fn push_response(&mut self, response: Rsp) -> Result<(), RingError> {
        if self.rsp_prod_pvt == self.req_cons {
            return Err(RingError::NothingToAnswer);
        }
        self.shared.write(self.rsp_prod_pvt, response);
        self.rsp_prod_pvt = self.rsp_prod_pvt.wrapping_add(1);
        Ok(())
    }

    /// Publishes the responses written (`RING_PUSH_RESPONSES_AND_CHECK_NOTIFY`), returning
    /// whether the frontend asked to be notified of them.
    pub fn push_responses_and_check_notify(&mut self) -> bool {
        let old = self.shared.load(RSP_PROD);
        let new = self.rsp_prod_pvt;
        self.shared.store(RSP_PROD, new);
        fence(Ordering::SeqCst);
        crosses(new, old, self.shared.load(RSP_EVENT))
    }

    /// Whether requests are waiting, after asking the frontend to notify at the next one if
    /// none are (`RING_FINAL_CHECK_FOR_REQUESTS`).
    pub fn final_check_for_requests(&mut self) -> Result<bool, RingError> {
        if self.unconsumed_requests()? > 0 {
            return Ok(true);
        }
        self.shared.store(REQ_EVENT, self.req_cons.wrapping_add(1));
        fence(Ordering::SeqCst);
        Ok(self.unconsumed_requests()? > 0)
    }
}
