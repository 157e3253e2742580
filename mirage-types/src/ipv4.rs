//! V1 `IPV4`: the IPv4 layer, and its static configuration.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

use crate::{Device, ErrorKind};
use async_trait::async_trait;
use core::net::Ipv4Addr;
use thiserror::Error;

/// Errors of the IP layer (V1: `` [ `Unknown of string | `Unimplemented ] ``).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum IpError {
    /// V1 `Unknown`: any other failure, described.
    #[error("IP error: {0}")]
    Unknown(String),
    /// V1 `Unimplemented`: e.g. raw IP output on the socket stack.
    #[error("operation not implemented by this IP layer")]
    Unimplemented,
    /// No route (or no ARP answer) for the destination.
    #[error("no route to {0}")]
    NoRoute(Ipv4Addr),
    /// The payload does not fit one packet.
    #[error("payload of {len} bytes does not fit one packet (at most {max})")]
    TooLong {
        /// Payload length.
        len: usize,
        /// Largest payload.
        max: usize,
    },
    /// The stack was disconnected.
    #[error("IP layer is disconnected")]
    Disconnected,
    /// An address, netmask or gateway that cannot be a host's: named, with why.
    #[error("invalid IPv4 configuration: {0}")]
    InvalidConfig(String),
}

impl IpError {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            IpError::Unknown(_) => ErrorKind::Other,
            IpError::Unimplemented => ErrorKind::Unimplemented,
            IpError::NoRoute(_) => ErrorKind::NotFound,
            IpError::TooLong { .. } => ErrorKind::InvalidInput,
            IpError::Disconnected => ErrorKind::Disconnected,
            IpError::InvalidConfig(_) => ErrorKind::InvalidInput,
        }
    }
}

/// A static IPv4 configuration: V1's `` `IPv4 (address, netmask, gateways) ``.
///
/// Made with [`Ipv4Config::new`] or from [`Ipv4Config::default`] (new fields may be added).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Ipv4Config {
    /// The host's address.
    pub address: Ipv4Addr,
    /// The subnet mask.
    pub netmask: Ipv4Addr,
    /// Default gateways, the first preferred.
    pub gateways: Vec<Ipv4Addr>,
}

impl Default for Ipv4Config {
    /// The `mirage` tool's defaults: `10.0.0.2`, `255.255.255.0`, gateway `10.0.0.1`.
    fn default() -> Self {
        Ipv4Config {
            address: Ipv4Addr::new(10, 0, 0, 2),
            netmask: Ipv4Addr::new(255, 255, 255, 0),
            gateways: vec![Ipv4Addr::new(10, 0, 0, 1)],
        }
    }
}

impl Ipv4Config {
    /// An address, its netmask and the gateways (the first preferred).
    pub fn new(address: Ipv4Addr, netmask: Ipv4Addr, gateways: Vec<Ipv4Addr>) -> Self {
        Ipv4Config {
            address,
            netmask,
            gateways,
        }
    }

    /// Sets the host's address.
    pub fn address(mut self, address: Ipv4Addr) -> Self {
        self.address = address;
        self
    }

    /// Sets the subnet mask.
    pub fn netmask(mut self, netmask: Ipv4Addr) -> Self {
        self.netmask = netmask;
        self
    }

    /// Sets the gateways, the first preferred.
    pub fn gateways(mut self, gateways: Vec<Ipv4Addr>) -> Self {
        self.gateways = gateways;
        self
    }

    /// Checks that this can be a host's configuration: the address and gateways unicast
    /// (not `0.0.0.0`, broadcast, multicast or reserved), the netmask contiguous ones.
    pub fn check(&self) -> Result<(), IpError> {
        check_host_address("address", self.address)?;
        if self.prefix_len().is_none() {
            return Err(IpError::InvalidConfig(format!(
                "netmask {} is not a run of ones followed by zeros",
                self.netmask
            )));
        }
        for gateway in &self.gateways {
            check_host_address("gateway", *gateway)?;
        }
        Ok(())
    }

    /// The netmask as a prefix length, or `None` if its one bits are not contiguous.
    pub fn prefix_len(&self) -> Option<u8> {
        netmask_prefix_len(self.netmask)
    }
}

/// Refuses an address a host cannot have: unspecified, broadcast, multicast, or in the
/// reserved 240.0.0.0/4. `what` names it in the error ("address", "gateway").
pub fn check_host_address(what: &str, address: Ipv4Addr) -> Result<(), IpError> {
    let why = if address.is_unspecified() {
        "unspecified"
    } else if address.is_broadcast() {
        "the broadcast address"
    } else if address.is_multicast() {
        "a multicast address"
    } else if address.octets()[0] >= 240 {
        "reserved (240.0.0.0/4)"
    } else {
        return Ok(());
    };
    Err(IpError::InvalidConfig(format!(
        "{what} {address} is {why}, not a host's unicast address"
    )))
}

/// The prefix length of a netmask such as `255.255.255.0` (24), or `None` if the mask is not
/// a run of ones followed by zeros.
pub fn netmask_prefix_len(netmask: Ipv4Addr) -> Option<u8> {
    let bits = u32::from(netmask);
    let ones = bits.leading_ones();
    (bits.checked_shl(ones).unwrap_or(0) == 0).then_some(ones as u8)
}

/// V1 `IPV4`: addressing, and sending raw IP payloads.
///
/// V1's `input`, `allocate_frame` and `checksum` are not here: demultiplexing is the
/// stack's, and `write` builds the header itself (as Mirage 3 and later do).
#[async_trait(?Send)]
pub trait Ipv4: Device {
    /// V1 `get_ip`: the host's addresses (`0.0.0.0` when bound to any).
    fn get_ip(&self) -> Vec<Ipv4Addr>;

    /// V1 `set_ip`: changes the host's address.
    async fn set_ip(&self, ip: Ipv4Addr) -> Result<(), IpError>;

    /// V1 `get_ip_netmasks`.
    fn get_ip_netmasks(&self) -> Vec<Ipv4Addr>;

    /// V1 `set_ip_netmask`.
    async fn set_ip_netmask(&self, netmask: Ipv4Addr) -> Result<(), IpError>;

    /// V1 `get_ip_gateways`.
    fn get_ip_gateways(&self) -> Vec<Ipv4Addr>;

    /// V1 `set_ip_gateways`.
    async fn set_ip_gateways(&self, gateways: Vec<Ipv4Addr>) -> Result<(), IpError>;

    /// V1 `get_source`: the source address used to reach `dst`.
    fn get_source(&self, dst: Ipv4Addr) -> Ipv4Addr;

    /// V1 `write`/`writev`: sends `payload` (the concatenated parts) to `dst` with IP
    /// protocol number `protocol` (1 ICMP, 6 TCP, 17 UDP).
    async fn write(&self, dst: Ipv4Addr, protocol: u8, payload: &[&[u8]]) -> Result<(), IpError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_mirage_tool_defaults() {
        let config = Ipv4Config::default();
        assert_eq!(config.address.to_string(), "10.0.0.2");
        assert_eq!(config.netmask.to_string(), "255.255.255.0");
        assert_eq!(config.gateways, vec![Ipv4Addr::new(10, 0, 0, 1)]);
        assert_eq!(config.prefix_len(), Some(24));
    }

    #[test]
    fn host_configurations_are_checked() {
        assert_eq!(Ipv4Config::default().check(), Ok(()));
        for bad in ["224.0.0.1", "255.255.255.255", "0.0.0.0", "240.0.0.1"] {
            let config = Ipv4Config::default().address(bad.parse().unwrap());
            assert!(
                matches!(config.check(), Err(IpError::InvalidConfig(_))),
                "{bad}"
            );
        }
        let mask = Ipv4Config::default().netmask(Ipv4Addr::new(255, 0, 255, 0));
        assert!(mask.check().is_err());
        let gateway = Ipv4Config::default().gateways(vec![Ipv4Addr::new(239, 1, 1, 1)]);
        assert!(gateway.check().is_err());
    }

    #[test]
    fn prefix_lengths() {
        assert_eq!(netmask_prefix_len(Ipv4Addr::new(0, 0, 0, 0)), Some(0));
        assert_eq!(
            netmask_prefix_len(Ipv4Addr::new(255, 255, 255, 255)),
            Some(32)
        );
        assert_eq!(
            netmask_prefix_len(Ipv4Addr::new(255, 255, 240, 0)),
            Some(20)
        );
        assert_eq!(netmask_prefix_len(Ipv4Addr::new(255, 0, 255, 0)), None);
    }
}
