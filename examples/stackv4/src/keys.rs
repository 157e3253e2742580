//! The example's command line: Mirage's stack keys.

use crate::palette::ColorChoice;
use clap::{ArgAction, Parser, ValueEnum};
use mirage_types::Ipv4Config;
use std::net::Ipv4Addr;

/// Which stack to run (Mirage's `--net`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Net {
    /// The host's own TCP/IP through its sockets.
    Socket,
    /// Our own TCP/IP (smoltcp) over a tap device.
    Direct,
}

/// Prints the UDP datagrams and TCP connections a stack receives (MirageOS's stackv4).
#[derive(Debug, Parser)]
#[command(name = "mir-stackv4", version)]
pub struct Keys {
    /// The stack: `socket`, or `direct` (smoltcp over a tap device). Default: `direct` with
    /// `--dhcp true`, else `socket`.
    #[arg(long, value_enum)]
    pub net: Option<Net>,
    /// Configure the direct stack by DHCP.
    #[arg(long, action = ArgAction::Set, default_value_t = false, value_name = "BOOL")]
    pub dhcp: bool,
    /// The direct stack's address.
    #[arg(long, default_value_t = Ipv4Config::default().address)]
    pub ip: Ipv4Addr,
    /// The direct stack's netmask.
    #[arg(long, default_value_t = Ipv4Config::default().netmask)]
    pub netmask: Ipv4Addr,
    /// The direct stack's gateways, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "10.0.0.1")]
    pub gateways: Vec<Ipv4Addr>,
    /// The tap device of the direct stack.
    #[arg(long, default_value = "tap0")]
    pub network: String,
    /// The socket stack's listening addresses, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "0.0.0.0")]
    pub interfaces: Vec<Ipv4Addr>,
    /// The UDP port to listen on (below 1024 needs root).
    #[arg(long, default_value_t = 53)]
    pub udp_port: u16,
    /// The TCP port to listen on.
    #[arg(long, default_value_t = 8080)]
    pub tcp_port: u16,
    /// Record every frame of the direct stack to this pcap file.
    #[arg(long, value_name = "FILE")]
    pub pcap: Option<std::path::PathBuf>,
    /// Colour the output: `auto` (on a terminal, unless `NO_COLOR` is set), `always`, `never`.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

impl Keys {
    /// The stack chosen, with Mirage 4's defaults for a Unix build.
    pub fn stack(&self) -> Net {
        self.net
            .unwrap_or(if self.dhcp { Net::Direct } else { Net::Socket })
    }

    /// The static configuration of the direct stack.
    pub fn ipv4_config(&self) -> Ipv4Config {
        Ipv4Config::new(self.ip, self.netmask, self.gateways.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_mirages() {
        let keys = Keys::parse_from(["mir-stackv4"]);
        assert_eq!(keys.stack(), Net::Socket);
        assert_eq!(keys.ipv4_config(), Ipv4Config::default());
        assert_eq!(keys.network, "tap0");
        assert_eq!(keys.interfaces, [Ipv4Addr::UNSPECIFIED]);
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
        assert_eq!(keys.stack(), Net::Direct);
        assert_eq!(keys.ipv4_config().gateways.len(), 2);
        assert!(Keys::try_parse_from(["mir-stackv4", "--ip", "10.0.0.256"]).is_err());
    }
}
