//! The unikernel's keys, from its command line (`extra =` in the `.xl`), as a Mirage
//! unikernel takes its keys at boot: the network keys of every unikernel on the direct
//! stack (`--ip`, `--dhcp`, ...) and the server's own, worded and bounded as on the Unix
//! command line ([`crate::keys`] there).

use crate::unikernel::Config;
use alloc::format;
use alloc::string::String;
use core::time::Duration;
use mir_stackv4::boot_keys::NetKeys;
use mir_stackv4::values;

/// The keys a static website unikernel takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootKeys {
    /// The network keys: `--net direct`, `--dhcp`, `--ip`, `--netmask`, `--gateways`,
    /// `--tcp-timeout`.
    pub net: NetKeys,
    /// `--http-port` (default 8080).
    pub http_port: u16,
    /// `--https true|false`: serve HTTPS too, plain HTTP then redirecting to it (default
    /// false).
    pub https: bool,
    /// `--https-port` (default 4433).
    pub https_port: u16,
    /// `--max-connections` (default 1024; at least 1).
    pub max_connections: usize,
    /// `--header-timeout`, seconds (default 10; 1 to 86400).
    pub header_timeout: u64,
}

impl Default for BootKeys {
    fn default() -> Self {
        let config = Config::default();
        BootKeys {
            net: NetKeys::default(),
            http_port: config.http_port,
            https: false,
            https_port: 4433,
            max_connections: config.max_connections,
            header_timeout: config.header_timeout.as_secs(),
        }
    }
}

impl BootKeys {
    /// Parses `command_line`; the error names the key and what is wrong with its value.
    ///
    /// ```
    /// use mir_static_website::boot_keys::BootKeys;
    ///
    /// let keys = BootKeys::parse("--ip 10.0.0.7 --http-port=80").unwrap();
    /// assert_eq!((keys.net.ip.to_string(), keys.http_port), ("10.0.0.7".into(), 80));
    /// let error = BootKeys::parse("--header-timeout 0").unwrap_err();
    /// assert!(error.contains("--header-timeout"), "{error}");
    /// ```
    pub fn parse(command_line: &str) -> Result<Self, String> {
        let mut keys = BootKeys::default();
        let names = format!(
            "{}, --http-port, --https, --https-port, --max-connections, --header-timeout",
            NetKeys::NAMES
        );
        mirage_types::apply_boot_keys(command_line, &names, |key, value| keys.set(key, value))?;
        Ok(keys)
    }

    /// Takes one key's value; `None` for a key there is not.
    fn set(&mut self, key: &str, value: &str) -> Option<Result<(), String>> {
        let parsed = match key {
            "http-port" => values::port(value).map(|v| self.http_port = v),
            "https" => values::boolean(value).map(|v| self.https = v),
            "https-port" => values::port(value).map(|v| self.https_port = v),
            "max-connections" => match value.parse::<usize>() {
                Ok(max) if max > 0 => {
                    self.max_connections = max;
                    Ok(())
                }
                _ => Err(format!(
                    "{value:?} is not a count of connections (1 or more)"
                )),
            },
            "header-timeout" => values::tcp_timeout(value).map(|v| self.header_timeout = v),
            _ => return self.net.set(key, value),
        };
        Some(parsed)
    }

    /// The server's configuration (HTTPS on [`Config::tls`]'s cryptography, which the
    /// unikernel gives).
    pub fn config(&self) -> Config {
        Config::default()
            .http_port(self.http_port)
            .https_port(self.https.then_some(self.https_port))
            .max_connections(self.max_connections)
            .header_timeout(Duration::from_secs(self.header_timeout))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_and_the_defaults() {
        let keys = BootKeys::parse(
            "--dhcp true --http-port 80 --max-connections=5 --header-timeout 3 --tcp-timeout 9 \
             --https true --https-port 443",
        )
        .unwrap();
        assert!(keys.net.dhcp);
        assert_eq!(
            (keys.http_port, keys.max_connections, keys.header_timeout),
            (80, 5, 3)
        );
        assert_eq!(keys.net.tcp_timeout, 9);
        let config = keys.config();
        assert_eq!(config.header_timeout, Duration::from_secs(3));
        assert_eq!(config.https_port, Some(443));
        let defaults = BootKeys::parse("").unwrap().config();
        assert_eq!(defaults.https_port, None);
        assert_eq!(
            (defaults.http_port, defaults.max_connections),
            (
                Config::default().http_port,
                Config::default().max_connections
            )
        );
    }

    #[test]
    fn bad_values_and_unknown_keys_are_named() {
        for (line, says) in [
            ("--http-port 65536", "not a port"),
            ("--max-connections 0", "1 or more"),
            ("--header-timeout 86401", "from 1 to 86400"),
            ("--https yes", "neither true nor false"),
            ("--tls true", "no such key"),
            ("--ip 0.0.0.0", "--ip"),
        ] {
            let error = BootKeys::parse(line).unwrap_err();
            assert!(error.contains(says), "{line}: {error}");
        }
    }
}
