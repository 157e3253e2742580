//! V1 `ETHIF`: the Ethernet layer over a [`crate::Network`].

#[allow(unused_imports)]
use crate::alloc_prelude::*;

use crate::{Device, FrameHandler, MacAddr, NetError};
use async_trait::async_trait;
use bytes::Bytes;

/// Ethertype of ARP.
pub const ETHERTYPE_ARP: u16 = 0x0806;
/// Ethertype of IPv4.
pub const ETHERTYPE_IPV4: u16 = 0x0800;
/// Ethertype of IPv6.
pub const ETHERTYPE_IPV6: u16 = 0x86dd;
/// Length of an Ethernet II header.
pub const ETHERNET_HEADER_LEN: usize = 14;

/// The three upper layers [`Ethif::input`] hands frames to (V1's `~arpv4 ~ipv4 ~ipv6`).
#[derive(Clone)]
pub struct EthernetHandlers {
    /// Receives ARP frames.
    pub arpv4: FrameHandler,
    /// Receives IPv4 frames.
    pub ipv4: FrameHandler,
    /// Receives IPv6 frames.
    pub ipv6: FrameHandler,
}

/// V1 `ETHIF`: Ethernet framing and demultiplexing.
#[async_trait(?Send)]
pub trait Ethif: Device {
    /// V1 `write`: sends one complete Ethernet frame.
    async fn write(&self, frame: &[u8]) -> Result<(), NetError>;

    /// V1 `writev`: sends the concatenation of `parts` as one frame.
    async fn writev(&self, parts: &[&[u8]]) -> Result<(), NetError> {
        self.write(&parts.concat()).await
    }

    /// V1 `mac`: the interface's address.
    fn mac(&self) -> MacAddr;

    /// V1 `input`: hands `frame` (whole, header included) to the handler for its ethertype.
    /// Frames too short for a header, or of another ethertype, are dropped.
    async fn input(&self, handlers: &EthernetHandlers, frame: Bytes) {
        if frame.len() < ETHERNET_HEADER_LEN {
            return;
        }
        let handler = match u16::from_be_bytes([frame[12], frame[13]]) {
            ETHERTYPE_ARP => &handlers.arpv4,
            ETHERTYPE_IPV4 => &handlers.ipv4,
            ETHERTYPE_IPV6 => &handlers.ipv6,
            _ => return,
        };
        handler(frame).await
    }
}
