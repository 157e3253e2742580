//! The stack's addresses settling before the application starts: Mirage's line for a DHCP
//! lease, and one for each IPv6 address another host turned out to have.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::net::Ipv6Addr;
use mirage_net::DirectStack;
use mirage_types::{Console, Ipv4Config, Network};

/// Waits for `stack`'s addresses: the IPv4 address (with DHCP, the lease, which is then
/// reported as Mirage does) and the IPv6 duplicate checks (each duplicate reported). The
/// stack's driver must be running.
pub async fn addressed<N: Network, C: Console>(
    stack: &DirectStack<N>,
    console: &C,
    dhcp: bool,
) -> Result<(), String> {
    let config = stack.configured().await.map_err(|e| e.to_string())?;
    if dhcp {
        console
            .log_s(&lease_line(&config))
            .await
            .map_err(|e| e.to_string())?;
    }
    for address in stack.ipv6_checked().await {
        console
            .log_s(&duplicate_line(address))
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// What Mirage says when DHCP gave the stack its address.
pub fn lease_line(config: &Ipv4Config) -> String {
    let gateways: Vec<String> = config.gateways.iter().map(ToString::to_string).collect();
    format!(
        "DHCP offer received and bound to {} nm {} gw [{}]",
        config.address,
        config.netmask,
        gateways.join(", ")
    )
}

/// What the stack says of an IPv6 address another host answered for.
pub fn duplicate_line(address: Ipv6Addr) -> String {
    format!("IPv6 address {address} is in use by another host: not taken")
}
