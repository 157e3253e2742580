//! The frames between smoltcp and a `Network`: queues both ways.

use smoltcp::phy::{self, DeviceCapabilities, Medium};
use smoltcp::time::Instant;
use std::collections::VecDeque;

/// Frames received from the network, waiting for smoltcp, and frames smoltcp made, waiting to
/// be written to the network.
pub(crate) struct Queues {
    pub(crate) received: VecDeque<Vec<u8>>,
    pub(crate) to_send: VecDeque<Vec<u8>>,
    pub(crate) mtu: usize,
    /// Frames smoltcp may still take in this poll: small batches let the driver refill the
    /// listening pools between them.
    pub(crate) budget: usize,
}

impl Queues {
    pub(crate) fn new(mtu: usize) -> Self {
        Queues {
            received: VecDeque::new(),
            to_send: VecDeque::new(),
            mtu,
            budget: usize::MAX,
        }
    }
}

pub(crate) struct Rx(Vec<u8>);
pub(crate) struct Tx<'a>(&'a mut VecDeque<Vec<u8>>);

impl phy::RxToken for Rx {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(&self.0)
    }
}

impl phy::TxToken for Tx<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut frame = vec![0u8; len];
        let result = f(&mut frame);
        self.0.push_back(frame);
        result
    }
}

impl phy::Device for Queues {
    type RxToken<'a> = Rx;
    type TxToken<'a> = Tx<'a>;

    fn receive(&mut self, _now: Instant) -> Option<(Rx, Tx<'_>)> {
        if self.budget == 0 {
            return None;
        }
        let frame = self.received.pop_front()?;
        self.budget -= 1;
        Some((Rx(frame), Tx(&mut self.to_send)))
    }

    fn transmit(&mut self, _now: Instant) -> Option<Tx<'_>> {
        Some(Tx(&mut self.to_send))
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ethernet;
        caps.max_transmission_unit = self.mtu + mirage_types::ETHERNET_HEADER_LEN;
        caps
    }
}
