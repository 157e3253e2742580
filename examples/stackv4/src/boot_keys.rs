//! The unikernel's keys, from its command line (`extra =` in the `.xl`), as a Mirage
//! unikernel takes its keys at boot: `--ip 10.0.0.5` or `--ip=10.0.0.5`, separated by
//! spaces. Values are parsed by the same functions as the Unix command line's
//! ([`crate::values`]), so a bad one is refused with the same words.

use crate::palette::Palette;
use crate::values;
use alloc::string::String;
use alloc::vec::Vec;
use core::net::{Ipv4Addr, Ipv6Addr};
use core::time::Duration;
use mirage_net::Addressing;
use mirage_types::{IpCidr, Ipv4Config, Ipv6Config};

/// The network keys every unikernel on the direct stack takes: how the stack gets its
/// address and how long a connection may wait on its peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetKeys {
    /// `--dhcp true|false`: configure the stack by DHCP.
    pub dhcp: bool,
    /// `--ip`: the static address (default 10.0.0.2).
    pub ip: Ipv4Addr,
    /// `--netmask` (default 255.255.255.0).
    pub netmask: Ipv4Addr,
    /// `--gateways`, comma-separated (default 10.0.0.1).
    pub gateways: Vec<Ipv4Addr>,
    /// `--tcp-timeout`, seconds (default 120).
    pub tcp_timeout: u64,
    /// `--ipv6`: fixed IPv6 addresses with their prefixes, comma-separated.
    pub ipv6: Vec<IpCidr>,
    /// `--ipv6-gateway`: the IPv6 default router.
    pub ipv6_gateway: Option<Ipv6Addr>,
    /// `--accept-router-advertisements true|false` (default true): SLAAC.
    pub accept_router_advertisements: bool,
    /// `--ipv4-only true|false` (default false): no IPv6 at all.
    pub ipv4_only: bool,
}

impl NetKeys {
    /// The network keys, for the error that names an unknown key.
    pub const NAMES: &str = "--net, --dhcp, --ip, --netmask, --gateways, --tcp-timeout, \
                             --ipv6, --ipv6-gateway, --accept-router-advertisements, --ipv4-only";

    /// Takes one key's value; `None` for a key that is not a network key.
    pub fn set(&mut self, key: &str, value: &str) -> Option<Result<(), String>> {
        let parsed = match key {
            "net" if value == "direct" => Ok(()),
            "net" => Err("a unikernel has only the direct stack".into()),
            "dhcp" => values::boolean(value).map(|v| self.dhcp = v),
            "ip" => values::host_address(value).map(|v| self.ip = v),
            "netmask" => values::netmask(value).map(|v| self.netmask = v),
            "gateways" => values::host_addresses(value).map(|v| self.gateways = v),
            "tcp-timeout" => values::tcp_timeout(value).map(|v| self.tcp_timeout = v),
            "ipv6" => value
                .split(',')
                .map(values::ipv6_cidr)
                .collect::<Result<Vec<_>, _>>()
                .map(|v| self.ipv6 = v),
            "ipv6-gateway" => values::ipv6_host_address(value).map(|v| self.ipv6_gateway = Some(v)),
            "accept-router-advertisements" => {
                values::boolean(value).map(|v| self.accept_router_advertisements = v)
            }
            "ipv4-only" => values::boolean(value).map(|v| self.ipv4_only = v),
            _ => return None,
        };
        Some(parsed)
    }

    /// The static configuration the keys give.
    pub fn ipv4_config(&self) -> Ipv4Config {
        Ipv4Config::new(self.ip, self.netmask, self.gateways.clone())
    }

    /// How the stack gets its address: by DHCP with `--dhcp true`, else statically.
    pub fn addressing(&self) -> Addressing {
        if self.dhcp {
            Addressing::dhcp(values::DHCP_TIMEOUT)
        } else {
            Addressing::Static(self.ipv4_config())
        }
    }

    /// `--tcp-timeout` as a duration.
    pub fn tcp_timeout(&self) -> Duration {
        Duration::from_secs(self.tcp_timeout)
    }

    /// The IPv6 the keys give the stack (`None` with `--ipv4-only true`): its link-local
    /// address always, `--ipv6`'s, and SLAAC's unless refused.
    pub fn ipv6_config(&self) -> Option<Ipv6Config> {
        (!self.ipv4_only).then(|| {
            Ipv6Config::default()
                .addresses(self.ipv6.clone())
                .gateway(self.ipv6_gateway)
                .slaac(self.accept_router_advertisements)
        })
    }
}

impl Default for NetKeys {
    fn default() -> Self {
        let config = Ipv4Config::default();
        NetKeys {
            dhcp: false,
            ip: config.address,
            netmask: config.netmask,
            gateways: config.gateways,
            tcp_timeout: 120,
            ipv6: Vec::new(),
            ipv6_gateway: None,
            accept_router_advertisements: true,
            ipv4_only: false,
        }
    }
}

/// The keys a stackv4 unikernel takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootKeys {
    /// The network keys.
    pub net: NetKeys,
    /// `--udp-port` (default 53).
    pub udp_port: u16,
    /// `--tcp-port` (default 8080).
    pub tcp_port: u16,
    /// `--color always|never` (default never: a console log is not a terminal).
    pub color: bool,
}

impl Default for BootKeys {
    fn default() -> Self {
        BootKeys {
            net: NetKeys::default(),
            udp_port: 53,
            tcp_port: 8080,
            color: false,
        }
    }
}

impl BootKeys {
    /// Parses `command_line`; the error names the key and what is wrong with its value.
    ///
    /// ```
    /// use mir_stackv4::boot_keys::BootKeys;
    ///
    /// let keys = BootKeys::parse("--ip=10.0.0.5 --gateways 10.0.0.1,10.0.0.9").unwrap();
    /// assert_eq!(keys.net.ip.to_string(), "10.0.0.5");
    /// assert_eq!(keys.net.gateways.len(), 2);
    /// let error = BootKeys::parse("--ip 224.0.0.1").unwrap_err();
    /// assert!(error.contains("--ip") && error.contains("multicast"), "{error}");
    /// ```
    pub fn parse(command_line: &str) -> Result<Self, String> {
        let mut keys = BootKeys::default();
        let names = alloc::format!("{}, --udp-port, --tcp-port, --color", NetKeys::NAMES);
        mirage_types::apply_boot_keys(command_line, &names, |key, value| keys.set(key, value))?;
        Ok(keys)
    }

    /// Takes one key's value; `None` for a key there is not.
    fn set(&mut self, key: &str, value: &str) -> Option<Result<(), String>> {
        let parsed = match key {
            "udp-port" => values::port(value).map(|v| self.udp_port = v),
            "tcp-port" => values::port(value).map(|v| self.tcp_port = v),
            "color" if matches!(value, "always" | "never") => {
                self.color = value == "always";
                Ok(())
            }
            "color" => Err("it is always or never".into()),
            _ => return self.net.set(key, value),
        };
        Some(parsed)
    }

    /// The colours `--color` asks for.
    pub fn palette(&self) -> Palette {
        Palette::new(self.color)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_forms_and_every_key() {
        let keys = BootKeys::parse(
            "--net direct --dhcp=true --ip 192.168.1.9 --netmask=255.255.0.0 \
             --gateways 192.168.1.1 --udp-port 5353 --tcp-port=80 --tcp-timeout 30 --color always",
        )
        .unwrap();
        assert!(keys.net.dhcp && keys.color);
        assert_eq!(keys.net.ip, Ipv4Addr::new(192, 168, 1, 9));
        assert_eq!(keys.net.netmask, Ipv4Addr::new(255, 255, 0, 0));
        assert_eq!(keys.net.gateways, [Ipv4Addr::new(192, 168, 1, 1)]);
        assert_eq!(
            (keys.udp_port, keys.tcp_port, keys.net.tcp_timeout),
            (5353, 80, 30)
        );
        assert_eq!(BootKeys::parse("").unwrap(), BootKeys::default());
        assert_eq!(BootKeys::default().net.ipv4_config(), Ipv4Config::default());
        assert_eq!(
            BootKeys::default().net.ipv6_config(),
            Some(Ipv6Config::default())
        );
        let keys = BootKeys::parse(
            "--ipv6 fd00::2/64,fd01::2/64 --ipv6-gateway=fe80::1 \
             --accept-router-advertisements false",
        )
        .unwrap();
        let ipv6 = keys.net.ipv6_config().unwrap();
        assert_eq!(ipv6.addresses.len(), 2);
        assert_eq!(ipv6.gateway, Some("fe80::1".parse().unwrap()));
        assert!(!ipv6.slaac);
        let keys = BootKeys::parse("--ipv4-only true").unwrap();
        assert_eq!(keys.net.ipv6_config(), None);
    }

    #[test]
    fn bad_keys_and_values_are_named() {
        for (line, says) in [
            ("--ip 10.0.0.256", "'--ip'"),
            ("--ip 255.255.255.255", "broadcast"),
            ("--netmask 255.0.255.0", "not a netmask"),
            ("--gateways 10.0.0.1,239.0.0.1", "multicast"),
            ("--dhcp yes", "neither true nor false"),
            ("--tcp-timeout 0", "from 1 to 86400"),
            ("--udp-port 70000", "not a port"),
            ("--net socket", "only the direct stack"),
            ("--colour never", "no such key"),
            ("--ip", "needs a value"),
            ("10.0.0.2", "unexpected argument"),
            ("--ipv6 ff02::1/64", "multicast"),
            ("--ipv6 fd00::2", "not an address/prefix"),
            ("--ipv6-gateway ::1", "loopback"),
            ("--ipv4-only maybe", "neither true nor false"),
        ] {
            let error = BootKeys::parse(line).unwrap_err();
            assert!(error.contains(says), "{line}: {error}");
        }
    }
}
