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
use core::task::{Context, Poll};

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
    port: Rc<P>,
    events: RefCell<Events>,
}

impl<M: SharedMemory, P: Port + 'static> XsRing<M, P> {
    /// The ring on `page`, signalled through `port`. The page is used as it is (xenstored
    /// may already have answered into it).
    pub fn new(page: M, port: P) -> Self {
        let port = Rc::new(port);
        XsRing {
            page,
            events: RefCell::new(Events::new(port.clone())),
            port,
        }
    }

    fn ring_error(error: crate::ring::RingError) -> XenError {
        XenError::Other(format!("the xenstore ring: {error}"))
    }
}

#[async_trait(?Send)]
impl<M: SharedMemory, P: Port + 'static> XsTransport for XsRing<M, P> {
    async fn send(&self, mut bytes: &[u8]) -> Result<(), XenError> {
        poll_fn(|cx| {
            loop {
                let written = match REQUESTS.write(&self.page, bytes) {
                    Ok(written) => written,
                    Err(error) => break self.done(cx, Err(Self::ring_error(error))),
                };
                self.port.notify();
                bytes = &bytes[written..];
                if bytes.is_empty() {
                    break self.done(cx, Ok(()));
                }
                if written == 0 && self.events.borrow_mut().poll(cx).is_pending() {
                    break Poll::Pending;
                }
            }
        })
        .await
    }

    async fn recv(&self, buffer: &mut Vec<u8>) -> Result<(), XenError> {
        poll_fn(|cx| {
            loop {
                match REPLIES.read(&self.page, buffer) {
                    Err(error) => break self.done(cx, Err(Self::ring_error(error))),
                    Ok(0) => {
                        if self.events.borrow_mut().poll(cx).is_pending() {
                            break Poll::Pending;
                        }
                    }
                    Ok(_) => {
                        self.port.notify();
                        break self.done(cx, Ok(()));
                    }
                }
            }
        })
        .await
    }
}

impl<M: SharedMemory, P: Port + 'static> XsRing<M, P> {
    /// Stops waiting on the port (another waiter takes over if need be) with `result`.
    fn done(&self, cx: &Context<'_>, result: Result<(), XenError>) -> Poll<Result<(), XenError>> {
        self.events.borrow_mut().leave(cx);
        Poll::Ready(result)
    }
}
