//! V1 `ARP`: IPv4-to-MAC resolution.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

use crate::{Device, ErrorKind, MacAddr};
use async_trait::async_trait;
use core::net::Ipv4Addr;
use thiserror::Error;

/// Errors of ARP (V1's `result` had only `` `Timeout `` beside `` `Ok ``).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ArpError {
    /// V1 `Timeout`: nobody answered the query.
    #[error("ARP query for {0} timed out")]
    Timeout(Ipv4Addr),
    /// The ARP layer was disconnected.
    #[error("ARP is disconnected")]
    Disconnected,
    /// Any other failure, described.
    #[error("ARP error: {0}")]
    Unknown(String),
}

impl ArpError {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            ArpError::Timeout(_) => ErrorKind::Timeout,
            ArpError::Disconnected => ErrorKind::Disconnected,
            ArpError::Unknown(_) => ErrorKind::Other,
        }
    }
}

/// V1 `ARP`: the addresses this host answers for, and queries for others.
///
/// V1's `input` is not here: receiving frames is the stack's business, which feeds its own
/// ARP layer; an application only queries and configures it.
#[async_trait(?Send)]
pub trait Arp: Device {
    /// V1 `get_ips`: the addresses this host answers ARP requests for.
    fn get_ips(&self) -> Vec<Ipv4Addr>;

    /// V1 `set_ips`: replaces them (announcing each with a gratuitous ARP).
    async fn set_ips(&self, ips: Vec<Ipv4Addr>) -> Result<(), ArpError>;

    /// V1 `add_ip`.
    async fn add_ip(&self, ip: Ipv4Addr) -> Result<(), ArpError>;

    /// V1 `remove_ip`.
    async fn remove_ip(&self, ip: Ipv4Addr) -> Result<(), ArpError>;

    /// V1 `query`: the MAC address of `ip`, asking on the wire if it is not cached. May
    /// sleep; fails with [`ArpError::Timeout`] when nobody answers.
    async fn query(&self, ip: Ipv4Addr) -> Result<MacAddr, ArpError>;
}
