//! The example's command line: Mirage's stack keys.

#[allow(unused_imports)]
use std::prelude::rust_2024::*;

use crate::palette::ColorChoice;
use crate::values::{host_address, ipv6_cidr, ipv6_host_address, netmask};
use clap::{ArgAction, Parser, ValueEnum};
use core::net::{Ipv4Addr, Ipv6Addr};
use mirage_types::{IpCidr, Ipv4Config, Ipv6Config};

/// Which stack to run (Mirage's `--net`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Net {
    /// The host's own TCP/IP through its sockets.
    Socket,
    /// Our own TCP/IP (smoltcp) over a tap device.
    Direct,
}

/// Mirage's stack keys, shared by the examples that take a stack (flattened into their
/// command lines).
#[derive(Debug, Clone, clap::Args)]
pub struct StackKeys {
    /// The stack: `socket`, or `direct` (smoltcp over a tap device). Default: `direct` with
    /// `--dhcp true`, else `socket`.
    #[arg(long, value_enum)]
    pub net: Option<Net>,
    /// Configure the direct stack by DHCP.
    #[arg(long, action = ArgAction::Set, default_value_t = false, value_name = "BOOL",
          value_parser = crate::values::boolean)]
    pub dhcp: bool,
    /// The direct stack's address (a host's unicast address).
    #[arg(long, default_value_t = Ipv4Config::default().address, value_parser = host_address)]
    pub ip: Ipv4Addr,
    /// The direct stack's netmask (contiguous ones, such as 255.255.255.0).
    #[arg(long, default_value_t = Ipv4Config::default().netmask, value_parser = netmask)]
    pub netmask: Ipv4Addr,
    /// The direct stack's gateways, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "10.0.0.1", value_parser = host_address)]
    pub gateways: Vec<Ipv4Addr>,
    /// The direct stack's fixed IPv6 addresses with their prefixes, comma-separated
    /// (`fd00::2/64`).
    #[arg(long, value_delimiter = ',', value_parser = ipv6_cidr)]
    pub ipv6: Vec<IpCidr>,
    /// The direct stack's IPv6 default router (often a link-local address).
    #[arg(long, value_parser = ipv6_host_address)]
    pub ipv6_gateway: Option<Ipv6Addr>,
    /// Let router advertisements give the direct stack IPv6 addresses and a default router
    /// (SLAAC).
    #[arg(long, action = ArgAction::Set, default_value_t = true, value_name = "BOOL",
          value_parser = crate::values::boolean)]
    pub accept_router_advertisements: bool,
    /// No IPv6 at all: the stacks serve IPv4 only.
    #[arg(long, action = ArgAction::Set, default_value_t = false, value_name = "BOOL",
          value_parser = crate::values::boolean)]
    pub ipv4_only: bool,
    /// The tap device of the direct stack. It must exist unless `--create-tap` is given.
    #[arg(long, default_value = "tap0")]
    pub network: String,
    /// Create the tap device if it does not exist (needs CAP_NET_ADMIN; the new device has
    /// no address until you give it one).
    #[arg(long)]
    pub create_tap: bool,
    /// In a Xen domain: the direct stack runs on this domain's network interface N (`vif`
    /// N) through our own userspace frontend (`Netfront` over `/dev/xen`) instead of a tap
    /// device. The kernel's xen-netfront must not be loaded (it would own the interface).
    #[arg(long, value_name = "N")]
    pub xen_vif: Option<u32>,
    /// The socket stack's listening addresses, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "0.0.0.0")]
    pub interfaces: Vec<Ipv4Addr>,
    /// The socket stack's IPv6 listening addresses for the dual-stack examples,
    /// comma-separated (`::`: all). Default: all when `--interfaces` is all, else none.
    #[arg(long, value_delimiter = ',')]
    pub ipv6_interfaces: Option<Vec<Ipv6Addr>>,
    /// Record every frame of the direct stack to this pcap file.
    #[arg(long, value_name = "FILE")]
    pub pcap: Option<std::path::PathBuf>,
    /// Seconds a TCP connection may wait on its peer, on either stack (1 to 86400): a read
    /// for data, a write for the peer to take it, an answer to keep-alives.
    #[arg(long, default_value_t = 120, value_name = "SECONDS",
          value_parser = crate::values::tcp_timeout)]
    pub tcp_timeout: u64,
}

/// Prints the UDP datagrams and TCP connections a stack receives (MirageOS's stackv4).
#[derive(Debug, Parser)]
#[command(name = "mir-stackv4", version)]
pub struct Keys {
    /// The stack.
    #[command(flatten)]
    pub stack: StackKeys,
    /// The UDP port to listen on (below 1024 needs root).
    #[arg(long, default_value_t = 53)]
    pub udp_port: u16,
    /// The TCP port to listen on.
    #[arg(long, default_value_t = 8080)]
    pub tcp_port: u16,
    /// Colour the output: `auto` (on a terminal, unless `NO_COLOR` is set), `always`, `never`.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

impl StackKeys {
    /// The stack chosen, with Mirage 4's defaults for a Unix build.
    pub fn stack(&self) -> Net {
        self.net
            .unwrap_or(if self.dhcp { Net::Direct } else { Net::Socket })
    }

    /// `--tcp-timeout` as a duration.
    pub fn tcp_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.tcp_timeout)
    }

    /// The static configuration of the direct stack.
    pub fn ipv4_config(&self) -> Ipv4Config {
        Ipv4Config::new(self.ip, self.netmask, self.gateways.clone())
    }

    /// The direct stack's IPv6, or `None` with `--ipv4-only true`.
    pub fn ipv6_config(&self) -> Option<Ipv6Config> {
        (!self.ipv4_only).then(|| {
            Ipv6Config::default()
                .addresses(self.ipv6.clone())
                .gateway(self.ipv6_gateway)
                .slaac(self.accept_router_advertisements)
        })
    }

    /// The IPv6 addresses the socket stack listens on (see `--ipv6-interfaces`), or `None`
    /// to follow `--interfaces`; none with `--ipv4-only true`.
    pub fn ipv6_interfaces(&self) -> Option<Vec<Ipv6Addr>> {
        if self.ipv4_only {
            return Some(Vec::new());
        }
        self.ipv6_interfaces.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_mirages() {
        let keys = Keys::parse_from(["mir-stackv4"]);
        assert_eq!(keys.stack.stack(), Net::Socket);
        assert_eq!(keys.stack.ipv4_config(), Ipv4Config::default());
        assert_eq!(keys.stack.network, "tap0");
        assert_eq!(keys.stack.interfaces, [Ipv4Addr::UNSPECIFIED]);
        assert_eq!((keys.udp_port, keys.tcp_port), (53, 8080));
        let keys = Keys::parse_from([
            "mir-stackv4",
            "--dhcp",
            "true",
            "--ip",
            "192.168.1.9",
            "--gateways",
            "192.168.1.1,192.168.1.2",
        ]);
        assert_eq!(keys.stack.stack(), Net::Direct);
        assert_eq!(keys.stack.ipv4_config().gateways.len(), 2);
        assert!(Keys::try_parse_from(["mir-stackv4", "--ip", "10.0.0.256"]).is_err());
    }

    #[test]
    fn ipv6_keys_are_mirage_4s() {
        let keys = Keys::parse_from(["mir-stackv4"]);
        assert_eq!(keys.stack.ipv6_config(), Some(Ipv6Config::default()));
        assert_eq!(keys.stack.ipv6_interfaces(), None);
        let keys = Keys::parse_from([
            "mir-stackv4",
            "--ipv6",
            "fd00::2/64,fd01::2/64",
            "--ipv6-gateway",
            "fe80::1",
            "--accept-router-advertisements",
            "false",
            "--ipv6-interfaces",
            "::1",
        ]);
        let config = keys.stack.ipv6_config().unwrap();
        assert_eq!(config.addresses.len(), 2);
        assert_eq!(config.gateway, Some("fe80::1".parse().unwrap()));
        assert!(!config.slaac);
        assert_eq!(
            keys.stack.ipv6_interfaces(),
            Some(vec![Ipv6Addr::LOCALHOST])
        );
        let keys = Keys::parse_from(["mir-stackv4", "--ipv4-only", "true"]);
        assert_eq!(keys.stack.ipv6_config(), None);
        assert_eq!(keys.stack.ipv6_interfaces(), Some(Vec::new()));
    }

    #[test]
    fn addresses_no_host_can_have_are_refused() {
        for (key, value, says) in [
            ("--netmask", "255.0.255.0", "not a netmask"),
            ("--ip", "224.0.0.1", "multicast"),
            ("--ip", "255.255.255.255", "broadcast"),
            ("--ip", "0.0.0.0", "unspecified"),
            ("--gateways", "10.0.0.1,239.0.0.1", "multicast"),
            ("--ipv6", "ff02::1/64", "multicast"),
            ("--ipv6", "::1/128", "loopback"),
            ("--ipv6", "10.0.0.2/24", "not an IPv6"),
            ("--ipv6", "fd00::2", "not an address/prefix"),
            ("--ipv6-gateway", "::", "unspecified"),
        ] {
            let error = Keys::try_parse_from(["mir-stackv4", key, value]).unwrap_err();
            assert!(error.to_string().contains(says), "{key} {value}: {error}");
        }
    }
}
