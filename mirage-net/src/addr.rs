//! Socket addresses between the families: IPv4-mapped IPv6 addresses and V1's IPv4 view.

use core::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

/// `addr` with an IPv4-mapped IPv6 address (`[::ffff:10.0.0.1]:80`, as a dual-stack socket
/// reports an IPv4 peer) written as the IPv4 address it is.
pub(crate) fn canonical(addr: SocketAddr) -> SocketAddr {
    SocketAddr::new(addr.ip().to_canonical(), addr.port())
}

/// V1's IPv4 view of a peer: an IPv4 (or IPv4-mapped) address as itself, an IPv6 one as
/// `0.0.0.0`, with its port.
pub(crate) fn ipv4_view(addr: SocketAddr) -> SocketAddrV4 {
    match canonical(addr) {
        SocketAddr::V4(v4) => v4,
        SocketAddr::V6(v6) => SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, v6.port()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn mapped_addresses_become_ipv4_and_ipv6_ones_have_no_ipv4_view() {
        let mapped: SocketAddr = "[::ffff:10.0.0.1]:80".parse().unwrap();
        assert_eq!(canonical(mapped).to_string(), "10.0.0.1:80");
        assert_eq!(ipv4_view(mapped).to_string(), "10.0.0.1:80");
        let v6: SocketAddr = "[fd00::1]:80".parse().unwrap();
        assert_eq!(canonical(v6), v6);
        assert_eq!(ipv4_view(v6).to_string(), "0.0.0.0:80");
    }
}
