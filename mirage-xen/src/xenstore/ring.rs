//! A guest's xenstore ring (its xenstore page and event channel) as a transport.

#[allow(unused_imports)]
use crate::prelude::*;

use super::XsTransport;
use crate::platform::events::Events;
use crate::platform::{Port, XenError};
use crate::ring::{ByteRing, SharedMemory};
use alloc::rc::Rc;
use async_trait::async_trait;
use core::cell::RefCell;
use core::future::poll_fn;

/// Requests, guest to xenstored.
const REQUESTS: ByteRing = ByteRing {
    data: 0,
    size: 1024,
    cons: 2048,
    prod: 2052,
};
/// Replies and events, xenstored to guest.
const REPLIES: ByteRing = ByteRing {
    data: 1024,
    size: 1024,
    cons: 2056,
    prod: 2060,
};

/// The xenstore page `M` and event channel `P` of a guest.
pub struct XsRing<M: SharedMemory, P: Port + 'static> {
    page: M,
    events: RefCell<Events<P>>,
}

impl<M: SharedMemory, P: Port + 'static> XsRing<M, P> {
    /// The ring on `page`, signalled through `port`. The page is used as it is (xenstored
    /// may already have answered into it).
    pub fn new(page: M, port: P) -> Self {
        XsRing {
            page,
            events: RefCell::new(Events::new(Rc::new(port))),
        }
    }

    fn ring_error(error: crate::ring::RingError) -> XenError {
        XenError::Other(format!("the xenstore ring: {error}"))
    }
}

#[async_trait(?Send)]
impl<M: SharedMemory, P: Port + 'static> XsTransport for XsRing<M, P> {
    async fn send(&self, mut bytes: &[u8]) -> Result<(), XenError> {
        while !bytes.is_empty() {
            let written = REQUESTS
                .write(&self.page, bytes)
                .map_err(Self::ring_error)?;
            self.events.borrow().port().notify();
            bytes = &bytes[written..];
            if written == 0 {
                poll_fn(|cx| self.events.borrow_mut().poll(cx)).await;
            }
        }
        Ok(())
    }

    async fn recv(&self, buffer: &mut Vec<u8>) -> Result<(), XenError> {
        loop {
            if REPLIES.read(&self.page, buffer).map_err(Self::ring_error)? > 0 {
                self.events.borrow().port().notify();
                return Ok(());
            }
            poll_fn(|cx| self.events.borrow_mut().poll(cx)).await;
        }
    }
}
