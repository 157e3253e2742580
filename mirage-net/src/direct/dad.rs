//! Duplicate address detection (RFC 4862, section 5.4) for the direct stack's IPv6
//! addresses, which smoltcp 0.14 does not do: a new address (link-local, fixed, or from
//! SLAAC) stays off the interface, tentative, while neighbour solicitations ask whether
//! another host has it; it is taken once they go unanswered, and never if one is answered.
//! Other hosts' probes for the stack's own addresses are answered here too: smoltcp would
//! answer them to the unspecified address they come from, which reaches no one.

#[allow(unused_imports)]
use crate::alloc_prelude::*;
use alloc::collections::VecDeque;
use core::net::Ipv6Addr;
use mirage_types::MacAddr;
use smoltcp::iface::Interface;
use smoltcp::phy::ChecksumCapabilities;
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::{
    EthernetAddress, EthernetFrame, EthernetProtocol, EthernetRepr, Icmpv6Packet, Icmpv6Repr,
    IpCidr, IpProtocol, Ipv6Cidr, Ipv6Packet, Ipv6Repr, NdiscNeighborFlags, NdiscRepr,
    RawHardwareAddress,
};

/// How long each probe waits for an answer (RFC 4861's `RetransTimer`).
const RETRANS: Duration = Duration::from_secs(1);
/// Addresses checked at once at most (as many as the interface holds).
const TENTATIVE: usize = 8;
/// Duplicates remembered at most (the oldest is forgotten first).
const DUPLICATES: usize = 8;

/// The addresses being checked, those that passed, and those another host has.
#[derive(Debug, Default)]
pub(crate) struct Dad {
    /// Probes sent per address before it is taken (0: addresses are taken unchecked).
    transmits: u8,
    tentative: Vec<Probe>,
    /// Addresses on the interface that passed (or needed no check): any other IPv6
    /// address found there was put there by SLAAC and is taken off to be checked.
    checked: Vec<Ipv6Addr>,
    duplicates: VecDeque<Ipv6Addr>,
    /// Addresses were tentative since [`Dad::just_settled`] last said so.
    busy: bool,
}

#[derive(Debug)]
struct Probe {
    cidr: Ipv6Cidr,
    sent: u8,
    /// When the next probe goes, or (all sent) when the address is taken.
    due: Instant,
}

/// What [`Dad::observe`] made of a received frame.
#[derive(Debug, PartialEq)]
pub(crate) enum Observed {
    /// For smoltcp as usual.
    Pass,
    /// Another host's probe, handled here, with the answer to send if the address is ours.
    Probe(Option<Vec<u8>>),
}

impl Dad {
    /// Checks each address new on the interface with `transmits` probes.
    pub(crate) fn new(transmits: u8) -> Self {
        Dad {
            transmits,
            ..Dad::default()
        }
    }

    /// Starts checking `cidr` (taken at once when no probe is asked for).
    fn start(&mut self, cidr: Ipv6Cidr, now: Instant) {
        let address = cidr.address();
        if self.duplicates.contains(&address)
            || self.tentative.iter().any(|p| p.cidr.address() == address)
            || self.tentative.len() >= TENTATIVE
        {
            return;
        }
        self.tentative.push(Probe {
            cidr,
            sent: 0,
            due: now,
        });
        self.busy = true;
    }

    /// Whether the last tentative address was just taken or found a duplicate (once per
    /// settling, for those who wait on it).
    pub(crate) fn just_settled(&mut self) -> bool {
        let settled = self.busy && self.tentative.is_empty();
        if settled {
            self.busy = false;
        }
        settled
    }

    /// Addresses being checked.
    pub(crate) fn tentative(&self) -> Vec<Ipv6Addr> {
        self.tentative.iter().map(|p| p.cidr.address()).collect()
    }

    /// Addresses found in use by another host, oldest first.
    pub(crate) fn duplicates(&self) -> Vec<Ipv6Addr> {
        self.duplicates.iter().copied().collect()
    }

    /// Whether `address` was found in use by another host.
    pub(crate) fn is_duplicate(&self, address: Ipv6Addr) -> bool {
        self.duplicates.contains(&address)
    }

    /// When [`Dad::upkeep`] has something to do next.
    pub(crate) fn due(&self) -> Option<Instant> {
        self.tentative.iter().map(|p| p.due).min()
    }

    /// Takes new addresses off `iface` to be checked, sends the probes that are due into
    /// `send`, and puts addresses whose probes went unanswered on the interface. Without
    /// probes (`transmits` 0) addresses stay as they come.
    pub(crate) fn upkeep(
        &mut self,
        iface: &mut Interface,
        mac: MacAddr,
        now: Instant,
        mut send: impl FnMut(Vec<u8>),
    ) {
        if self.transmits == 0 {
            return;
        }
        let arrived: Vec<Ipv6Cidr> = iface
            .ip_addrs()
            .iter()
            .filter_map(|cidr| match cidr {
                IpCidr::Ipv6(v6) if !self.checked.contains(&v6.address()) => Some(*v6),
                _ => None,
            })
            .collect();
        if !arrived.is_empty() {
            iface.update_ip_addrs(|addrs| {
                addrs.retain(|cidr| !matches!(cidr, IpCidr::Ipv6(v6) if arrived.contains(v6)))
            });
            for cidr in arrived {
                self.start(cidr, now);
            }
        }
        // Addresses that left (a SLAAC prefix ran out) are checked again if they return.
        self.checked.retain(|address| {
            iface
                .ip_addrs()
                .iter()
                .any(|c| c.address() == (*address).into())
        });

        let transmits = self.transmits;
        let mut passed = Vec::new();
        self.tentative.retain_mut(|probe| {
            if probe.due > now {
                return true;
            }
            if probe.sent < transmits {
                send(solicitation(mac, probe.cidr.address()));
                probe.sent += 1;
                probe.due = now + RETRANS;
                return true;
            }
            passed.push(probe.cidr);
            false
        });
        for cidr in passed {
            iface.update_ip_addrs(|addrs| {
                let _ = addrs.push(IpCidr::Ipv6(cidr));
            });
            self.checked.push(cidr.address());
        }
    }

    /// Looks at a frame from the network for neighbour discovery about a tentative address
    /// (which makes it a duplicate) or another host's probe for one of `iface`'s.
    pub(crate) fn observe(&mut self, frame: &[u8], iface: &Interface, mac: MacAddr) -> Observed {
        let Some((ip, ndisc)) = neighbour_discovery(frame) else {
            return Observed::Pass;
        };
        match ndisc {
            NdiscRepr::NeighborAdvert { target_addr, .. } => {
                self.duplicate(target_addr);
                Observed::Pass
            }
            // A probe: its sender has no address yet.
            NdiscRepr::NeighborSolicit { target_addr, .. } if ip.src_addr.is_unspecified() => {
                self.duplicate(target_addr);
                Observed::Probe(
                    iface
                        .has_ip_addr(target_addr)
                        .then(|| advertisement(mac, target_addr)),
                )
            }
            _ => Observed::Pass,
        }
    }

    /// Another host has `address`: if it was being checked, it is a duplicate.
    fn duplicate(&mut self, address: Ipv6Addr) {
        let before = self.tentative.len();
        self.tentative.retain(|p| p.cidr.address() != address);
        if self.tentative.len() < before {
            if self.duplicates.len() == DUPLICATES {
                self.duplicates.pop_front();
            }
            self.duplicates.push_back(address);
        }
    }
}

/// The IPv6 header and neighbour solicitation or advertisement in `frame`, if it holds a
/// valid one: hop limit 255 (it comes from the link itself, RFC 4861) and a good checksum.
fn neighbour_discovery(frame: &[u8]) -> Option<(Ipv6Repr, NdiscRepr<'_>)> {
    // Most frames are something else: the fixed fields say so before anything is parsed.
    const ICMPV6: u8 = 58;
    if frame.get(12..14)? != [0x86, 0xdd] || frame.get(14 + 6..14 + 8)? != [ICMPV6, 255] {
        return None;
    }
    let ethernet = EthernetFrame::new_checked(frame).ok()?;
    if ethernet.ethertype() != EthernetProtocol::Ipv6 {
        return None;
    }
    let packet = Ipv6Packet::new_checked(ethernet.payload()).ok()?;
    let ip = Ipv6Repr::parse(&packet).ok()?;
    if ip.next_header != IpProtocol::Icmpv6 || ip.hop_limit != 255 {
        return None;
    }
    let icmp = Icmpv6Packet::new_checked(packet.payload()).ok()?;
    let checksums = ChecksumCapabilities::default();
    match Icmpv6Repr::parse(&ip.src_addr, &ip.dst_addr, &icmp, &checksums).ok()? {
        Icmpv6Repr::Ndisc(
            ndisc @ (NdiscRepr::NeighborSolicit { .. } | NdiscRepr::NeighborAdvert { .. }),
        ) => Some((ip, ndisc)),
        _ => None,
    }
}

/// A probe for `target`: a neighbour solicitation from the unspecified address to its
/// solicited-node multicast group, with no link-layer address (RFC 4862, 5.4.2).
fn solicitation(mac: MacAddr, target: Ipv6Addr) -> Vec<u8> {
    let t = target.octets();
    let group = Ipv6Addr::new(
        0xff02,
        0,
        0,
        0,
        0,
        1,
        0xff00 | u16::from(t[13]),
        u16::from_be_bytes([t[14], t[15]]),
    );
    let ndisc = NdiscRepr::NeighborSolicit {
        target_addr: target,
        lladdr: None,
    };
    frame(mac, Ipv6Addr::UNSPECIFIED, group, ndisc)
}

/// The answer to another host's probe for our `target`: an advertisement to all nodes,
/// not solicited, overriding, with our link-layer address (RFC 4861, 7.2.4).
fn advertisement(mac: MacAddr, target: Ipv6Addr) -> Vec<u8> {
    let ndisc = NdiscRepr::NeighborAdvert {
        flags: NdiscNeighborFlags::OVERRIDE,
        target_addr: target,
        lladdr: Some(RawHardwareAddress::from_bytes(&mac.0)),
    };
    frame(
        mac,
        target,
        Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1),
        ndisc,
    )
}

/// `ndisc` from `src` to the multicast group `dst`, in an Ethernet frame from `mac`.
fn frame(mac: MacAddr, src: Ipv6Addr, dst: Ipv6Addr, ndisc: NdiscRepr<'_>) -> Vec<u8> {
    let icmp = Icmpv6Repr::Ndisc(ndisc);
    let ip = Ipv6Repr {
        src_addr: src,
        dst_addr: dst,
        next_header: IpProtocol::Icmpv6,
        payload_len: icmp.buffer_len(),
        hop_limit: 255,
    };
    let d = dst.octets();
    let ethernet = EthernetRepr {
        src_addr: EthernetAddress(mac.0),
        dst_addr: EthernetAddress([0x33, 0x33, d[12], d[13], d[14], d[15]]),
        ethertype: EthernetProtocol::Ipv6,
    };
    let mut bytes = vec![0; ethernet.buffer_len() + ip.buffer_len() + icmp.buffer_len()];
    let mut frame = EthernetFrame::new_unchecked(&mut bytes[..]);
    ethernet.emit(&mut frame);
    let mut packet = Ipv6Packet::new_unchecked(frame.payload_mut());
    ip.emit(&mut packet);
    let mut message = Icmpv6Packet::new_unchecked(packet.payload_mut());
    icmp.emit(&src, &dst, &mut message, &ChecksumCapabilities::default());
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use smoltcp::iface::Config;
    use smoltcp::wire::HardwareAddress;

    const MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 2]);
    const OTHER: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 9]);

    fn iface() -> Interface {
        let mut device = super::super::device::Queues::new(1500);
        let config = Config::new(HardwareAddress::Ethernet(EthernetAddress(MAC.0)));
        Interface::new(config, &mut device, Instant::ZERO)
    }

    fn cidr(text: &str) -> Ipv6Cidr {
        Ipv6Cidr::new(text.parse().unwrap(), 64)
    }

    fn addresses(iface: &Interface) -> Vec<Ipv6Addr> {
        iface
            .ip_addrs()
            .iter()
            .filter_map(|c| match c {
                IpCidr::Ipv6(v6) => Some(v6.address()),
                _ => None,
            })
            .collect()
    }

    /// `iface` with `new` on it, and a check of them with `transmits` probes each.
    fn checking(iface: &mut Interface, transmits: u8, new: &[&str]) -> Dad {
        iface.update_ip_addrs(|a| {
            for address in new {
                let _ = a.push(IpCidr::Ipv6(cidr(address)));
            }
        });
        Dad::new(transmits)
    }

    fn upkeep(dad: &mut Dad, iface: &mut Interface, secs: u64) -> Vec<Vec<u8>> {
        let mut sent = Vec::new();
        dad.upkeep(iface, MAC, Instant::from_secs(secs as i64), |f| {
            sent.push(f)
        });
        sent
    }

    #[test]
    fn an_unanswered_address_is_taken_after_its_probes() {
        let mut iface = iface();
        let mut dad = checking(&mut iface, 2, &["fd00::2"]);
        let sent = upkeep(&mut dad, &mut iface, 0);
        assert_eq!(sent.len(), 1);
        let (ip, ndisc) = neighbour_discovery(&sent[0]).unwrap();
        assert!(ip.src_addr.is_unspecified());
        assert_eq!(ip.dst_addr, "ff02::1:ff00:2".parse::<Ipv6Addr>().unwrap());
        assert_eq!(
            ndisc,
            NdiscRepr::NeighborSolicit {
                target_addr: "fd00::2".parse().unwrap(),
                lladdr: None
            }
        );
        assert_eq!(&sent[0][..6], &[0x33, 0x33, 0xff, 0, 0, 2]);
        assert_eq!(dad.due(), Some(Instant::from_secs(1)));
        assert_eq!(upkeep(&mut dad, &mut iface, 1).len(), 1);
        assert!(addresses(&iface).is_empty());
        assert!(upkeep(&mut dad, &mut iface, 2).is_empty());
        assert_eq!(addresses(&iface), ["fd00::2".parse::<Ipv6Addr>().unwrap()]);
        assert!(dad.tentative().is_empty() && dad.due().is_none());
        assert!(dad.just_settled() && !dad.just_settled());
    }

    #[test]
    fn an_answer_or_a_rival_probe_makes_a_duplicate_and_our_addresses_are_defended() {
        let mut iface = iface();
        let mut dad = checking(&mut iface, 1, &["fd00::2", "fd00::3", "fd00::4"]);
        upkeep(&mut dad, &mut iface, 0);
        let answer = advertisement(OTHER, "fd00::2".parse().unwrap());
        assert_eq!(dad.observe(&answer, &iface, MAC), Observed::Pass);
        let rival = solicitation(OTHER, "fd00::3".parse().unwrap());
        assert_eq!(dad.observe(&rival, &iface, MAC), Observed::Probe(None));
        upkeep(&mut dad, &mut iface, 1);
        assert_eq!(addresses(&iface), ["fd00::4".parse::<Ipv6Addr>().unwrap()]);
        assert_eq!(
            dad.duplicates(),
            [
                "fd00::2".parse::<Ipv6Addr>().unwrap(),
                "fd00::3".parse().unwrap()
            ]
        );

        // Someone probes for fd00::4, now ours: answered to all nodes, for us alone.
        let probe = solicitation(OTHER, "fd00::4".parse().unwrap());
        let Observed::Probe(Some(answer)) = dad.observe(&probe, &iface, MAC) else {
            panic!("not defended");
        };
        let (ip, ndisc) = neighbour_discovery(&answer).unwrap();
        assert_eq!(ip.src_addr, "fd00::4".parse::<Ipv6Addr>().unwrap());
        assert_eq!(ip.dst_addr, "ff02::1".parse::<Ipv6Addr>().unwrap());
        assert!(matches!(
            ndisc,
            NdiscRepr::NeighborAdvert { flags, lladdr: Some(_), .. }
                if flags == NdiscNeighborFlags::OVERRIDE
        ));
    }

    #[test]
    fn slaac_addresses_are_taken_off_and_checked_and_duplicates_stay_off() {
        let mut iface = iface();
        let mut dad = Dad::new(1);
        let slaac = |iface: &mut Interface| {
            iface.update_ip_addrs(|a| {
                let _ = a.push(IpCidr::Ipv6(cidr("2001:db8::2")));
            })
        };
        slaac(&mut iface);
        assert_eq!(upkeep(&mut dad, &mut iface, 0).len(), 1);
        assert!(addresses(&iface).is_empty());
        dad.observe(
            &advertisement(OTHER, "2001:db8::2".parse().unwrap()),
            &iface,
            MAC,
        );
        // SLAAC adds it again with each advertisement: off again, without a probe.
        slaac(&mut iface);
        assert!(upkeep(&mut dad, &mut iface, 5).is_empty());
        assert!(addresses(&iface).is_empty());
    }

    #[test]
    fn without_probes_addresses_stay_and_hostile_frames_pass() {
        let mut iface = iface();
        let mut dad = checking(&mut iface, 0, &["fd00::2"]);
        assert!(upkeep(&mut dad, &mut iface, 0).is_empty());
        assert_eq!(addresses(&iface).len(), 1);
        let mut probe = solicitation(OTHER, "fd00::2".parse().unwrap());
        for len in 0..probe.len() {
            assert_eq!(dad.observe(&probe[..len], &iface, MAC), Observed::Pass);
        }
        // A bad checksum, or a hop limit a router could have lowered: not neighbour discovery.
        probe[14 + 7] = 254;
        assert_eq!(dad.observe(&probe, &iface, MAC), Observed::Pass);
        probe[14 + 7] = 255;
        let last = probe.len() - 1;
        probe[last] ^= 1;
        assert_eq!(dad.observe(&probe, &iface, MAC), Observed::Pass);
    }
}
