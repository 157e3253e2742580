//! Requests in flight on a frontend's ring: each waits for the response with its id, and
//! the event channel is listened to through `Events`.

#[allow(unused_imports)]
use crate::prelude::*;

use alloc::collections::BTreeMap;
use core::task::{Context, Waker};

/// Ids of requests in flight, their responses once in, and who waits.
pub(crate) struct InFlight<R> {
    slots: BTreeMap<u64, Slot<R>>,
    next_id: u64,
    /// Tasks waiting for a free slot in the ring.
    room: Vec<Waker>,
}

struct Slot<R> {
    response: Option<R>,
    waker: Option<Waker>,
    /// Its future was dropped: the response only frees what the request held.
    abandoned: bool,
}

/// What became of a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Completed {
    /// Its request's future will take it.
    Delivered,
    /// Its request's future is gone: free what the request held.
    Abandoned,
    /// No such request in flight: ignored.
    Unknown,
}

impl<R> Default for InFlight<R> {
    fn default() -> Self {
        InFlight {
            slots: BTreeMap::new(),
            next_id: 0,
            room: Vec::new(),
        }
    }
}

impl<R> InFlight<R> {
    /// A fresh id for a request about to be pushed.
    pub(crate) fn start(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        self.slots.insert(
            id,
            Slot {
                response: None,
                waker: None,
                abandoned: false,
            },
        );
        id
    }

    /// Records `response` for `id`; a response to an id not in flight (a confused or
    /// hostile backend) is ignored.
    pub(crate) fn complete(&mut self, id: u64, response: R) -> Completed {
        match self.slots.get_mut(&id) {
            Some(slot) if slot.abandoned => {
                self.slots.remove(&id);
                for waker in self.room.drain(..) {
                    waker.wake();
                }
                Completed::Abandoned
            }
            Some(slot) if slot.response.is_none() => {
                slot.response = Some(response);
                if let Some(waker) = slot.waker.take() {
                    waker.wake();
                }
                Completed::Delivered
            }
            _ => Completed::Unknown,
        }
    }

    /// The response to `id` if it is in (the slot is then free), or registers the waker.
    pub(crate) fn take(&mut self, id: u64, cx: &Context<'_>) -> Option<R> {
        let slot = self.slots.get_mut(&id)?;
        match slot.response.take() {
            Some(response) => {
                self.slots.remove(&id);
                // Its slot is free: whoever waits for room tries again.
                for waker in self.room.drain(..) {
                    waker.wake();
                }
                Some(response)
            }
            None => {
                slot.waker = Some(cx.waker().clone());
                None
            }
        }
    }

    /// Forgets `id`, whose future was dropped: its response, when it comes, only frees what
    /// the request held.
    pub(crate) fn abandon(&mut self, id: u64) {
        if let Some(slot) = self.slots.get_mut(&id) {
            slot.abandoned = true;
            slot.waker = None;
        }
    }

    /// Forgets `id` outright (its request was never pushed).
    pub(crate) fn cancel(&mut self, id: u64) {
        self.slots.remove(&id);
        for waker in self.room.drain(..) {
            waker.wake();
        }
    }

    /// Waits for room in the ring.
    pub(crate) fn wait_for_room(&mut self, cx: &Context<'_>) {
        self.room.push(cx.waker().clone());
    }

    /// Every request in flight gets `response` (the device failed).
    pub(crate) fn fail_all(&mut self, response: impl Fn() -> R) {
        let ids: Vec<u64> = self.slots.keys().copied().collect();
        for id in ids {
            let _ = self.complete(id, response());
        }
    }
}
