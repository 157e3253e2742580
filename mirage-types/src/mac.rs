//! Ethernet MAC addresses.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

use core::fmt;
use core::str::FromStr;
use thiserror::Error;

/// A 48-bit Ethernet MAC address (V1's `macaddr`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    /// The broadcast address `ff:ff:ff:ff:ff:ff`.
    pub const BROADCAST: MacAddr = MacAddr([0xff; 6]);

    /// Whether the group bit (lowest bit of the first octet) is set.
    pub fn is_multicast(&self) -> bool {
        self.0[0] & 1 == 1
    }

    /// Whether the locally-administered bit is set.
    pub fn is_local(&self) -> bool {
        self.0[0] & 2 == 2
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}")
    }
}

/// A string that is not six colon-separated hexadecimal octets.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid MAC address {0:?}: expected six hex octets like 02:00:00:00:00:01")]
pub struct ParseMacError(pub String);

impl FromStr for MacAddr {
    type Err = ParseMacError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let error = || ParseMacError(s.to_owned());
        let mut octets = [0u8; 6];
        let mut parts = s.split([':', '-']);
        for octet in &mut octets {
            let part = parts.next().ok_or_else(error)?;
            if part.is_empty() || part.len() > 2 {
                return Err(error());
            }
            *octet = u8::from_str_radix(part, 16).map_err(|_| error())?;
        }
        if parts.next().is_some() {
            return Err(error());
        }
        Ok(MacAddr(octets))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        let mac: MacAddr = "02:0a:FF:00:1:9".parse().unwrap();
        assert_eq!(mac, MacAddr([2, 10, 255, 0, 1, 9]));
        assert_eq!(mac.to_string(), "02:0a:ff:00:01:09");
        assert!(mac.is_local() && !mac.is_multicast());
        assert!(MacAddr::BROADCAST.is_multicast());
        for bad in [
            "",
            "02:00:00:00:00",
            "02:00:00:00:00:00:00",
            "0g:00:00:00:00:00",
            "123:0:0:0:0:0",
        ] {
            assert!(bad.parse::<MacAddr>().is_err(), "{bad}");
        }
    }
}
