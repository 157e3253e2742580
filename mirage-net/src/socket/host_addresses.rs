//! The host's own addresses with their prefixes (`getifaddrs`), for the socket stack's
//! `configured_ips`: a stack listening on every address has the host's.

#[allow(unused_imports)]
use crate::alloc_prelude::*;
use mirage_types::{IpCidr, netmask_prefix_len};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Every address of the host's interfaces that are up, with its prefix length; empty if the
/// system will not say.
pub(crate) fn host_addresses() -> Vec<IpCidr> {
    let mut list: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills `list` with a list that freeifaddrs frees below.
    if unsafe { libc::getifaddrs(&mut list) } != 0 {
        return Vec::new();
    }
    let mut addresses = Vec::new();
    let mut entry = list;
    while !entry.is_null() {
        // SAFETY: `entry` is a node of the list getifaddrs made, not yet freed.
        let ifaddr = unsafe { &*entry };
        entry = ifaddr.ifa_next;
        if ifaddr.ifa_flags & libc::IFF_UP as libc::c_uint == 0 {
            continue;
        }
        // SAFETY: the address and netmask, where present, are sockaddrs of the family
        // their `sa_family` names.
        let found = unsafe { address(ifaddr.ifa_addr).zip(address(ifaddr.ifa_netmask)) };
        if let Some((ip, mask)) = found
            && let Some(len) = prefix_len(mask)
            && let Ok(cidr) = IpCidr::new(ip, len)
            && !addresses.contains(&cidr)
        {
            addresses.push(cidr);
        }
    }
    // SAFETY: the list getifaddrs made, freed once.
    unsafe { libc::freeifaddrs(list) };
    addresses
}

/// The IP address in `sockaddr`, if it is an IPv4 or IPv6 one.
///
/// # Safety
///
/// `sockaddr` is null or points to a socket address as long as its family says.
unsafe fn address(sockaddr: *const libc::sockaddr) -> Option<IpAddr> {
    if sockaddr.is_null() {
        return None;
    }
    // SAFETY: non-null, and at least a sockaddr (the caller's promise).
    match i32::from(unsafe { (*sockaddr).sa_family }) {
        libc::AF_INET => {
            // SAFETY: AF_INET: a sockaddr_in.
            let v4 = unsafe { &*(sockaddr as *const libc::sockaddr_in) };
            Some(Ipv4Addr::from(u32::from_be(v4.sin_addr.s_addr)).into())
        }
        libc::AF_INET6 => {
            // SAFETY: AF_INET6: a sockaddr_in6.
            let v6 = unsafe { &*(sockaddr as *const libc::sockaddr_in6) };
            Some(Ipv6Addr::from(v6.sin6_addr.s6_addr).into())
        }
        _ => None,
    }
}

/// The prefix length of a netmask, or `None` if it is not a run of ones then zeros.
fn prefix_len(mask: IpAddr) -> Option<u8> {
    match mask {
        IpAddr::V4(mask) => netmask_prefix_len(mask),
        IpAddr::V6(mask) => {
            let bits = u128::from(mask);
            let ones = bits.leading_ones();
            (bits.checked_shl(ones).unwrap_or(0) == 0).then_some(ones as u8)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_loopback_address_is_listed_with_its_prefix() {
        let addresses = host_addresses();
        let loopback: IpCidr = "127.0.0.1/8".parse().unwrap();
        assert!(addresses.contains(&loopback), "{addresses:?}");
    }

    #[test]
    fn netmasks_give_their_prefix_lengths() {
        assert_eq!(prefix_len("255.255.255.0".parse().unwrap()), Some(24));
        assert_eq!(prefix_len("0.0.0.0".parse().unwrap()), Some(0));
        assert_eq!(prefix_len("255.0.255.0".parse().unwrap()), None);
        assert_eq!(
            prefix_len("ffff:ffff:ffff:ffff::".parse().unwrap()),
            Some(64)
        );
        assert_eq!(prefix_len("ffff::ffff".parse().unwrap()), None);
        assert_eq!(
            prefix_len("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff".parse().unwrap()),
            Some(128)
        );
    }
}
