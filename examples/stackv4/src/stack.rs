//! The direct stack as the keys ask for it: on a tap device or a Xen interface, recorded to
//! a pcap file if asked, configured statically or by DHCP. Shared by the examples that take
//! Mirage's stack keys.

#[allow(unused_imports)]
use std::prelude::rust_2024::*;

use crate::keys::StackKeys;
use mirage_net::{Addressing, DirectStack, Recorded, SocketStack, StackConfig};
use mirage_types::{Console, Either};
use mirage_unix::Tap;
use mirage_xen::front::Netfront;
use mirage_xen::platform::linux::GuestXen;

pub use crate::values::DHCP_TIMEOUT;

/// A Xen domain's interface through our own frontend.
pub type XenVif = Netfront<GuestXen>;

/// The tap device or the Xen interface, recorded to `--pcap` if given.
pub type Link = Either<Either<Tap, XenVif>, Recorded<Either<Tap, XenVif>>>;

/// The socket stack on `--interfaces` (and `--ipv6-interfaces`, for the dual stack), with
/// `--tcp-timeout`.
pub fn socket(keys: &StackKeys) -> SocketStack {
    let mut config = StackConfig::default()
        .interfaces(keys.interfaces.clone())
        .idle_timeout(Some(keys.tcp_timeout()));
    if let Some(ipv6) = keys.ipv6_interfaces() {
        config = config.ipv6_interfaces(ipv6);
    }
    SocketStack::with_config(config)
}

/// The direct stack on the tap device `--network` (or the Xen interface `--xen-vif`),
/// configured statically or by DHCP, with IPv6 unless `--ipv4-only true`, once its
/// addresses are settled: with DHCP, the lease is said on `console` as Mirage says it, and
/// so is each IPv6 address another host has. The error is a message for the user.
pub async fn direct<C: Console>(
    console: &C,
    keys: &StackKeys,
) -> Result<DirectStack<Link>, String> {
    let device = match keys.xen_vif {
        Some(vif) => {
            let (xen, domid) = GuestXen::this_domain().await.map_err(|e| e.to_string())?;
            let netfront = Netfront::connect(xen, domid, vif)
                .await
                .map_err(|e| format!("vif {vif}: {e}"))?;
            Either::Right(netfront)
        }
        None => Either::Left(
            if keys.create_tap {
                Tap::create(&keys.network)
            } else {
                Tap::open(&keys.network)
            }
            .map_err(|e| e.to_string())?,
        ),
    };
    let link = match &keys.pcap {
        None => Either::Left(device),
        Some(path) => Either::Right(
            Recorded::new(device, path).map_err(|e| format!("{}: {e}", path.display()))?,
        ),
    };
    let addressing = if keys.dhcp {
        Addressing::Dhcp {
            timeout: DHCP_TIMEOUT,
        }
    } else {
        Addressing::Static(keys.ipv4_config())
    };
    let stack = DirectStack::connect(link, addressing)
        .await
        .map_err(|e| e.to_string())?;
    stack.set_tcp_timeout(keys.tcp_timeout());
    if let Some(ipv6) = keys.ipv6_config() {
        stack.enable_ipv6(ipv6).map_err(|e| e.to_string())?;
    }
    crate::addressed::addressed(&stack, console, keys.dhcp).await?;
    Ok(stack)
}
