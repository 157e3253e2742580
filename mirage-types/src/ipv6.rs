//! IPv6 addressing: an address with its prefix length, and a dual stack's IPv6 configuration.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

use crate::IpError;
use core::fmt;
use core::net::{IpAddr, Ipv6Addr};
use core::str::FromStr;

/// An address with the length of its network prefix: `2001:db8::2/64`, `10.0.0.2/24`
/// (Mirage 4's `Ipaddr.Prefix.t` as `configured_ips` returns it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IpCidr {
    address: IpAddr,
    prefix_len: u8,
}

impl IpCidr {
    /// `address/prefix_len`; a prefix longer than the address (32 bits for IPv4, 128 for
    /// IPv6) is refused.
    pub fn new(address: IpAddr, prefix_len: u8) -> Result<Self, IpError> {
        let bits = if address.is_ipv4() { 32 } else { 128 };
        if prefix_len > bits {
            return Err(IpError::InvalidConfig(format!(
                "prefix length {prefix_len} is longer than {address}'s {bits} bits"
            )));
        }
        Ok(IpCidr {
            address,
            prefix_len,
        })
    }

    /// The address.
    pub fn address(&self) -> IpAddr {
        self.address
    }

    /// The length of the network prefix, in bits.
    pub fn prefix_len(&self) -> u8 {
        self.prefix_len
    }

    /// Whether `other` is on this network (same family, same first `prefix_len` bits).
    pub fn contains(&self, other: IpAddr) -> bool {
        let prefix = u32::from(self.prefix_len);
        match (self.address, other) {
            (IpAddr::V4(a), IpAddr::V4(b)) => {
                let mask = u32::MAX.checked_shl(32 - prefix).unwrap_or(0);
                u32::from(a) & mask == u32::from(b) & mask
            }
            (IpAddr::V6(a), IpAddr::V6(b)) => {
                let mask = u128::MAX.checked_shl(128 - prefix).unwrap_or(0);
                u128::from(a) & mask == u128::from(b) & mask
            }
            _ => false,
        }
    }
}

impl fmt::Display for IpCidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.address, self.prefix_len)
    }
}

impl FromStr for IpCidr {
    type Err = IpError;

    /// `address/prefix_len`, as [`IpCidr`]'s `Display` writes it.
    fn from_str(text: &str) -> Result<Self, IpError> {
        let invalid = || IpError::InvalidConfig(format!("{text:?} is not an address/prefix"));
        let (address, prefix) = text.split_once('/').ok_or_else(invalid)?;
        let address = address.parse().map_err(|_| invalid())?;
        let prefix = prefix.parse().map_err(|_| invalid())?;
        IpCidr::new(address, prefix)
    }
}

/// Refuses an IPv6 address a host cannot have as its own or as its router: unspecified
/// (`::`), loopback (`::1`), multicast (`ff00::/8`), or an IPv4-mapped address
/// (`::ffff:0:0/96`, which names an IPv4 host). `what` names it in the error.
pub fn check_host_address_v6(what: &str, address: Ipv6Addr) -> Result<(), IpError> {
    let why = if address.is_unspecified() {
        "unspecified"
    } else if address.is_loopback() {
        "the loopback address"
    } else if address.is_multicast() {
        "a multicast address"
    } else if address.to_ipv4_mapped().is_some() {
        "an IPv4-mapped address"
    } else {
        return Ok(());
    };
    Err(IpError::InvalidConfig(format!(
        "{what} {address} is {why}, not a host's unicast address"
    )))
}

/// How a dual stack takes its IPv6 addresses: fixed ones, a default router, and whether
/// router advertisements may add more (SLAAC). Beside them the stack always has its
/// link-local address, made from its MAC address.
///
/// The default is Mirage 4's: no fixed address, addresses and the default router from
/// router advertisements.
///
/// ```
/// use mirage_types::{IpCidr, Ipv6Config};
///
/// let config = Ipv6Config::default()
///     .addresses(vec!["2001:db8::2/64".parse().unwrap()])
///     .gateway(Some("fe80::1".parse().unwrap()))
///     .slaac(false);
/// assert!(config.check().is_ok());
/// assert!(Ipv6Config::default().addresses(vec!["ff02::1/64".parse().unwrap()]).check().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Ipv6Config {
    /// Fixed addresses with their prefixes (each IPv6).
    pub addresses: Vec<IpCidr>,
    /// The default router (often its link-local address), if fixed.
    pub gateway: Option<Ipv6Addr>,
    /// Whether router advertisements configure addresses and the default router
    /// (stateless address autoconfiguration, RFC 4862).
    pub slaac: bool,
    /// Duplicate address detection (RFC 4862): how many neighbour solicitations ask, a
    /// second apart, whether another host has each new address before the stack takes it
    /// (1 by default, as RFC 4862 has it; 0 takes addresses at once, unchecked). An address
    /// another host answers for is not taken. Stacks whose operating system does this
    /// itself (the socket stack) leave it to the system.
    pub dad_transmits: u8,
}

impl Default for Ipv6Config {
    /// No fixed address, SLAAC on, one duplicate address probe per address.
    fn default() -> Self {
        Ipv6Config {
            addresses: Vec::new(),
            gateway: None,
            slaac: true,
            dad_transmits: 1,
        }
    }
}

impl Ipv6Config {
    /// Sets the fixed addresses.
    pub fn addresses(mut self, addresses: Vec<IpCidr>) -> Self {
        self.addresses = addresses;
        self
    }

    /// Sets the default router.
    pub fn gateway(mut self, gateway: Option<Ipv6Addr>) -> Self {
        self.gateway = gateway;
        self
    }

    /// Turns SLAAC on or off.
    pub fn slaac(mut self, slaac: bool) -> Self {
        self.slaac = slaac;
        self
    }

    /// Sets how many duplicate address probes each new address waits through (0: none).
    pub fn dad_transmits(mut self, transmits: u8) -> Self {
        self.dad_transmits = transmits;
        self
    }

    /// Checks that this can be a host's: every address IPv6 and a host's unicast address
    /// (see [`check_host_address_v6`]), and so the gateway.
    pub fn check(&self) -> Result<(), IpError> {
        for cidr in &self.addresses {
            match cidr.address() {
                IpAddr::V6(address) => check_host_address_v6("address", address)?,
                IpAddr::V4(address) => {
                    return Err(IpError::InvalidConfig(format!(
                        "address {address} is IPv4, in the IPv6 configuration"
                    )));
                }
            }
        }
        if let Some(gateway) = self.gateway {
            check_host_address_v6("gateway", gateway)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidrs_parse_print_and_contain() {
        let cidr: IpCidr = "2001:db8::2/64".parse().unwrap();
        assert_eq!(cidr.to_string(), "2001:db8::2/64");
        assert!(cidr.contains("2001:db8::ffff".parse().unwrap()));
        assert!(!cidr.contains("2001:db9::1".parse().unwrap()));
        assert!(!cidr.contains("10.0.0.1".parse().unwrap()));
        let v4: IpCidr = "10.0.0.2/24".parse().unwrap();
        assert!(v4.contains("10.0.0.200".parse().unwrap()));
        let all: IpCidr = "::/0".parse().unwrap();
        assert!(all.contains("2001:db8::1".parse().unwrap()));
        for bad in ["10.0.0.2/33", "::1/129", "::1", "x/3", "::1/x", "/64"] {
            assert!(bad.parse::<IpCidr>().is_err(), "{bad}");
        }
    }

    #[test]
    fn host_configurations_are_checked() {
        assert_eq!(Ipv6Config::default().check(), Ok(()));
        for bad in [
            "::/64",
            "::1/128",
            "ff02::1/64",
            "::ffff:10.0.0.2/96",
            "10.0.0.2/24",
        ] {
            let config = Ipv6Config::default().addresses(vec![bad.parse().unwrap()]);
            assert!(
                matches!(config.check(), Err(IpError::InvalidConfig(_))),
                "{bad}"
            );
        }
        for bad in ["::", "ff02::2", "::1"] {
            let config = Ipv6Config::default().gateway(Some(bad.parse().unwrap()));
            assert!(config.check().is_err(), "{bad}");
        }
        let good = Ipv6Config::default()
            .addresses(vec!["fd00::2/64".parse().unwrap()])
            .gateway(Some("fe80::1".parse().unwrap()));
        assert_eq!(good.check(), Ok(()));
    }
}
