//! Parsing the stack keys' values, shared by the Unix command line (clap) and a unikernel's
//! boot-time keys, so that both take the same values and refuse bad ones with the same
//! words.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use mirage_types::IpCidr;

/// Parses an address a host can have (not multicast, broadcast, `0.0.0.0` or reserved).
pub fn host_address(text: &str) -> Result<Ipv4Addr, String> {
    let address: Ipv4Addr = text.parse().map_err(|e| format!("{e}"))?;
    mirage_types::check_host_address("address", address).map_err(|e| e.to_string())?;
    Ok(address)
}

/// Parses an IPv6 address with its prefix that a host can have (`--ipv6 fd00::2/64`).
pub fn ipv6_cidr(text: &str) -> Result<IpCidr, String> {
    let cidr: IpCidr = text
        .parse()
        .map_err(|e: mirage_types::IpError| e.to_string())?;
    match cidr.address() {
        IpAddr::V6(address) => {
            mirage_types::check_host_address_v6("address", address).map_err(|e| e.to_string())?;
            Ok(cidr)
        }
        IpAddr::V4(_) => Err(format!("{text} is not an IPv6 address")),
    }
}

/// Parses an IPv6 address a host can have as its router (`--ipv6-gateway fe80::1`).
pub fn ipv6_host_address(text: &str) -> Result<Ipv6Addr, String> {
    let address: Ipv6Addr = text.parse().map_err(|e| format!("{e}"))?;
    mirage_types::check_host_address_v6("gateway", address).map_err(|e| e.to_string())?;
    Ok(address)
}

/// Parses comma-separated host addresses (`--gateways`).
pub fn host_addresses(text: &str) -> Result<Vec<Ipv4Addr>, String> {
    text.split(',').map(host_address).collect()
}

/// Parses a netmask: a run of ones followed by zeros.
pub fn netmask(text: &str) -> Result<Ipv4Addr, String> {
    let mask: Ipv4Addr = text.parse().map_err(|e| format!("{e}"))?;
    match mirage_types::netmask_prefix_len(mask) {
        Some(_) => Ok(mask),
        None => Err(format!(
            "{mask} is not a netmask (its ones must be contiguous, as in 255.255.255.0)"
        )),
    }
}

/// Parses `true` or `false` (`--dhcp`).
pub fn boolean(text: &str) -> Result<bool, String> {
    match text {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(format!("{text:?} is neither true nor false")),
    }
}

/// The range of `--tcp-timeout`, in seconds.
pub const TCP_TIMEOUT_SECONDS: core::ops::RangeInclusive<u64> = 1..=86_400;

/// Parses a port number.
pub fn port(text: &str) -> Result<u16, String> {
    text.parse()
        .map_err(|_| format!("{text:?} is not a port (0 to 65535)"))
}

/// Parses `--tcp-timeout`: whole seconds in [`TCP_TIMEOUT_SECONDS`].
pub fn tcp_timeout(text: &str) -> Result<u64, String> {
    let range = TCP_TIMEOUT_SECONDS;
    match text.parse::<u64>() {
        Ok(seconds) if range.contains(&seconds) => Ok(seconds),
        _ => Err(format!(
            "{text:?} is not a number of seconds from {} to {}",
            range.start(),
            range.end()
        )),
    }
}

/// How long `--dhcp true` waits for a lease.
pub const DHCP_TIMEOUT: core::time::Duration = core::time::Duration::from_secs(10);
