//! The ARP view's table of neighbours, bounded: ARP from a flood of senders evicts the
//! oldest entries instead of growing the table.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

use alloc::collections::{BTreeMap, VecDeque};
use core::net::Ipv4Addr;
use mirage_types::MacAddr;

/// Neighbours the ARP view remembers at most.
pub(crate) const NEIGHBOURS: usize = 1024;

/// IPv4-to-MAC entries, at most [`NEIGHBOURS`], the oldest evicted first.
#[derive(Default)]
pub(crate) struct Neighbours {
    entries: BTreeMap<Ipv4Addr, MacAddr>,
    /// Addresses in the order they were first seen.
    order: VecDeque<Ipv4Addr>,
}

impl Neighbours {
    /// Records (or refreshes) `ip` at `mac`, evicting the oldest entry when full.
    pub(crate) fn insert(&mut self, ip: Ipv4Addr, mac: MacAddr) {
        if self.entries.insert(ip, mac).is_some() {
            return;
        }
        self.order.push_back(ip);
        while self.order.len() > NEIGHBOURS {
            if let Some(oldest) = self.order.pop_front() {
                self.entries.remove(&oldest);
            }
        }
    }

    /// The MAC address of `ip`, if seen.
    pub(crate) fn get(&self, ip: &Ipv4Addr) -> Option<&MacAddr> {
        self.entries.get(ip)
    }

    /// How many entries there are.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_of_senders_keeps_the_table_bounded() {
        let mut table = Neighbours::default();
        for n in 0..100_000u32 {
            table.insert(Ipv4Addr::from(n), MacAddr([2, 0, 0, 0, 0, 1]));
        }
        assert_eq!(table.len(), NEIGHBOURS);
        assert_eq!(table.order.len(), NEIGHBOURS);
        // The newest are kept, the oldest gone.
        assert!(table.get(&Ipv4Addr::from(99_999)).is_some());
        assert!(table.get(&Ipv4Addr::from(0)).is_none());
        // A refresh changes the address without growing anything.
        table.insert(Ipv4Addr::from(99_999), MacAddr([2, 0, 0, 0, 0, 2]));
        assert_eq!(
            table.get(&Ipv4Addr::from(99_999)),
            Some(&MacAddr([2, 0, 0, 0, 0, 2]))
        );
        assert_eq!(table.order.len(), NEIGHBOURS);
    }
}
