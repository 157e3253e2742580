//! The direct stack's ARP and Ethernet views.
//!
//! smoltcp keeps its neighbour cache private, so the ARP view keeps its own: the driver notes
//! the sender of every ARP packet it receives, and `query` asks on the wire.

use super::state::Shared;
#[allow(unused_imports)]
use crate::alloc_prelude::*;
use alloc::rc::Rc;
use core::net::Ipv4Addr;
use core::time::Duration;
use mirage_types::{
    Arp, ArpError, Device, ETHERTYPE_ARP, ETHERTYPE_IPV4, Ethif, Ipv4Config, MacAddr, NetError,
    Network, async_trait,
};

/// Requests `query` sends before giving up, one a second (as Mirage's ARP does).
const QUERY_ATTEMPTS: u32 = 3;
const QUERY_INTERVAL: Duration = Duration::from_secs(1);

/// Notes the sender of an ARP packet in `frame`, if it is one.
pub(crate) fn observe(shared: &Shared, frame: &[u8]) {
    if frame.len() < 42 || frame[12..14] != ETHERTYPE_ARP.to_be_bytes() {
        return;
    }
    // Ethernet over IPv4 only: htype 1, ptype 0x0800, hlen 6, plen 4.
    if frame[14..20] != [0, 1, 8, 0, 6, 4] {
        return;
    }
    let mac = MacAddr(frame[22..28].try_into().expect("six bytes"));
    let ip = Ipv4Addr::new(frame[28], frame[29], frame[30], frame[31]);
    if ip.is_unspecified() || mac.is_multicast() {
        return;
    }
    shared.neighbours.borrow_mut().insert(ip, mac);
    shared.neighbour_seen.notify();
}

/// For an IPv4 frame sent to this stack (`mac`, `config`) by a neighbour on its network
/// that the stack has not heard ARP from: that neighbour's ARP request for the stack's
/// address, for smoltcp to take before the frame.
///
/// smoltcp learns a neighbour's address only from ARP, and drops what it must send to a
/// neighbour it does not know while it asks. A peer that learned our address another way
/// (a DHCP server, which puts the client's address in its own table as it answers) talks
/// to us without asking, and our first answer would be lost: the first ping after a lease,
/// or a second's wait for the SYN to come again. (Linux holds such a packet until the
/// answer comes.) The request makes smoltcp learn the neighbour first; it answers it, an
/// ARP reply the peer does not need but takes.
pub(crate) fn introduction(
    shared: &Shared,
    mac: MacAddr,
    config: Option<&Ipv4Config>,
    frame: &[u8],
) -> Option<Vec<u8>> {
    let config = config?;
    if frame.len() < 34 || frame[12..14] != ETHERTYPE_IPV4.to_be_bytes() || frame[..6] != mac.0 {
        return None;
    }
    let sender_mac = MacAddr(frame[6..12].try_into().ok()?);
    let sender = Ipv4Addr::new(frame[26], frame[27], frame[28], frame[29]);
    let target = Ipv4Addr::new(frame[30], frame[31], frame[32], frame[33]);
    let mask = u32::from(config.netmask);
    let on_link = u32::from(sender) & mask == u32::from(config.address) & mask;
    if target != config.address || !on_link || sender == target || sender_mac.is_multicast() {
        return None;
    }
    let mut neighbours = shared.neighbours.borrow_mut();
    if neighbours.get(&sender) == Some(&sender_mac) {
        return None;
    }
    neighbours.insert(sender, sender_mac);
    let mut request = arp_request(sender_mac, sender, config.address);
    request[..6].copy_from_slice(&mac.0);
    Some(request)
}

/// An ARP packet: a request for `target` (or, with `target == sender_ip`, a gratuitous one).
fn arp_request(mac: MacAddr, sender_ip: Ipv4Addr, target: Ipv4Addr) -> Vec<u8> {
    let mut frame = Vec::with_capacity(42);
    frame.extend_from_slice(&MacAddr::BROADCAST.0);
    frame.extend_from_slice(&mac.0);
    frame.extend_from_slice(&ETHERTYPE_ARP.to_be_bytes());
    frame.extend_from_slice(&[0, 1, 8, 0, 6, 4, 0, 1]);
    frame.extend_from_slice(&mac.0);
    frame.extend_from_slice(&sender_ip.octets());
    frame.extend_from_slice(&[0; 6]);
    frame.extend_from_slice(&target.octets());
    frame
}

/// V1 `ARP` on the direct stack (from [`super::DirectStack::arp`]).
pub struct DirectArp<N: Network> {
    shared: Rc<Shared>,
    net: Rc<N>,
}

impl<N: Network> DirectArp<N> {
    pub(crate) fn new(shared: Rc<Shared>, net: Rc<N>) -> Self {
        DirectArp { shared, net }
    }

    fn address(&self) -> Option<Ipv4Addr> {
        self.shared.state.borrow().address()
    }

    async fn announce(&self, ip: Ipv4Addr) -> Result<(), ArpError> {
        let frame = arp_request(self.net.mac(), ip, ip);
        self.net
            .write(&frame)
            .await
            .map_err(|e| ArpError::Unknown(e.to_string()))
    }

    fn set_address(&self, ip: Option<Ipv4Addr>) -> Result<(), ArpError> {
        let mut state = self.shared.state.borrow_mut();
        match ip {
            Some(ip) => {
                let mut config = state.config.clone().unwrap_or_default();
                config.address = ip;
                state
                    .configure(config)
                    .map_err(|e| ArpError::Unknown(e.to_string()))?;
            }
            None => state.deconfigure(),
        }
        self.shared.wake.notify();
        Ok(())
    }
}

impl<N: Network> Clone for DirectArp<N> {
    fn clone(&self) -> Self {
        DirectArp {
            shared: self.shared.clone(),
            net: self.net.clone(),
        }
    }
}

#[async_trait(?Send)]
impl<N: Network> Device for DirectArp<N> {
    /// A view owns nothing: disconnect the stack to stop it.
    async fn disconnect(&self) {}
}

#[async_trait(?Send)]
impl<N: Network> Arp for DirectArp<N> {
    fn get_ips(&self) -> Vec<Ipv4Addr> {
        self.address().into_iter().collect()
    }

    /// The direct stack holds one address: `ips` may name one (or none, to remove it).
    async fn set_ips(&self, ips: Vec<Ipv4Addr>) -> Result<(), ArpError> {
        match ips.as_slice() {
            [] => self.set_address(None),
            [ip] => {
                self.set_address(Some(*ip))?;
                self.announce(*ip).await
            }
            _ => Err(ArpError::Unknown(
                "the direct stack holds one address".into(),
            )),
        }
    }

    async fn add_ip(&self, ip: Ipv4Addr) -> Result<(), ArpError> {
        match self.address() {
            None => self.set_ips(vec![ip]).await,
            Some(current) if current == ip => Ok(()),
            Some(current) => Err(ArpError::Unknown(format!(
                "the direct stack holds one address and has {current}"
            ))),
        }
    }

    async fn remove_ip(&self, ip: Ipv4Addr) -> Result<(), ArpError> {
        if self.address() == Some(ip) {
            self.set_address(None)?;
        }
        Ok(())
    }

    /// The MAC address of `ip`: from what the stack has seen, or by asking on the wire (a
    /// request a second, three times), failing with [`ArpError::Timeout`].
    async fn query(&self, ip: Ipv4Addr) -> Result<MacAddr, ArpError> {
        if self.address() == Some(ip) {
            return Ok(self.net.mac());
        }
        let sender = self.address().unwrap_or(Ipv4Addr::UNSPECIFIED);
        for _ in 0..QUERY_ATTEMPTS {
            if let Some(mac) = self.shared.neighbours.borrow().get(&ip) {
                return Ok(*mac);
            }
            if self.shared.disconnected.get() {
                return Err(ArpError::Disconnected);
            }
            self.net
                .write(&arp_request(self.net.mac(), sender, ip))
                .await
                .map_err(|e| ArpError::Unknown(e.to_string()))?;
            let answered = || self.shared.neighbours.borrow().get(&ip).is_some();
            let platform = &self.shared.platform;
            let deadline = platform.now() + QUERY_INTERVAL;
            let answer = self.shared.neighbour_seen.until(answered);
            if platform.timeout_at(deadline, answer).await.is_some()
                && let Some(mac) = self.shared.neighbours.borrow().get(&ip)
            {
                return Ok(*mac);
            }
        }
        self.shared
            .neighbours
            .borrow()
            .get(&ip)
            .copied()
            .ok_or(ArpError::Timeout(ip))
    }
}

/// V1 `ETHIF` on the direct stack (from [`super::DirectStack::ethif`]): raw Ethernet frames
/// out through the stack's device, beside the stack's own traffic.
pub struct DirectEthif<N: Network> {
    net: Rc<N>,
}

impl<N: Network> DirectEthif<N> {
    pub(crate) fn new(net: Rc<N>) -> Self {
        DirectEthif { net }
    }
}

impl<N: Network> Clone for DirectEthif<N> {
    fn clone(&self) -> Self {
        DirectEthif {
            net: self.net.clone(),
        }
    }
}

#[async_trait(?Send)]
impl<N: Network> Device for DirectEthif<N> {
    /// A view owns nothing: disconnect the stack to stop it.
    async fn disconnect(&self) {}
}

#[async_trait(?Send)]
impl<N: Network> Ethif for DirectEthif<N> {
    async fn write(&self, frame: &[u8]) -> Result<(), NetError> {
        self.net.write(frame).await
    }

    fn mac(&self) -> MacAddr {
        self.net.mac()
    }
}
