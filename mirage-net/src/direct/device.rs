//! The frames between smoltcp and a `Network`: queues both ways.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

use super::frame_pool::FramePool;
use alloc::collections::VecDeque;
use bytes::Bytes;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use smoltcp::phy::{self, DeviceCapabilities, Medium};
use smoltcp::time::Instant;
use smoltcp::wire::TcpPacket;

/// Frames received from the network, waiting for smoltcp, and frames smoltcp made, waiting to
/// be written to the network.
pub(crate) struct Queues {
    pub(crate) received: VecDeque<Bytes>,
    pub(crate) to_send: VecDeque<Bytes>,
    /// The buffers `to_send`'s frames are made in.
    pool: FramePool,
    pub(crate) mtu: usize,
    /// TCP SYNs smoltcp may still take in this poll: no more than there are listening
    /// sockets, so the driver refills the pools before the next batch.
    pub(crate) syn_budget: usize,
    /// Whether this poll gave smoltcp a SYN (which may change a listening pool).
    pub(crate) syns_delivered: bool,
    /// SYNs beyond the budget, held for the next poll (a backlog in front of smoltcp, which
    /// has none); the oldest are dropped beyond `BACKLOG`, as a full backlog does.
    pub(crate) backlog: VecDeque<Bytes>,
    /// Frames and bytes smoltcp may still take in this poll: few enough that no UDP socket's
    /// buffer overflows before the driver moves its datagrams to their bounded queue (where
    /// drops are counted).
    pub(crate) frame_budget: usize,
    pub(crate) byte_budget: usize,
    /// Frames dropped because the stack fell behind the network (`RECEIVE_QUEUE` full).
    pub(crate) dropped: u64,
    /// Where the resets smoltcp was given came from.
    pub(crate) resets: super::resets::Resets,
    /// Whether a SYN came since the last poll began (the poll then learns `connected`).
    pub(crate) syn_arrived: bool,
    /// The connections the sockets hold, as (peer address, peer port, local port): a SYN
    /// for one of them is a copy the peer sent again before our answer reached it (or one
    /// held in `backlog` meanwhile). It is dropped: a listening socket earlier in
    /// smoltcp's set would take it and answer with a second handshake, whose refusal of
    /// the peer's next segment resets the connection (smoltcp gives a segment to the first
    /// socket that accepts it). The socket that has the connection answers on its own.
    pub(crate) connected: alloc::collections::BTreeSet<(IpAddr, u16, u16)>,
}

/// Frames waiting for smoltcp at most: a device delivering faster than the stack can take
/// loses the rest, as a full NIC ring does.
pub(crate) const RECEIVE_QUEUE: usize = 4096;
/// Frames and bytes handed to smoltcp per poll.
pub(crate) const FRAMES_PER_POLL: usize = 128;
pub(crate) const BYTES_PER_POLL: usize = 192 * 1024;

/// SYNs held at most between polls.
const BACKLOG: usize = 256;

impl Queues {
    /// Queues a frame from the network, or drops it (counted) when the queue is full.
    pub(crate) fn push_received(&mut self, frame: Bytes) {
        if self.received.len() >= RECEIVE_QUEUE {
            self.dropped += 1;
        } else {
            if tcp_headers(&frame).is_some_and(|(_, tcp)| opens_a_connection(&tcp)) {
                self.syn_arrived = true;
            }
            self.received.push_back(frame);
        }
    }

    /// Whether this poll has SYNs to give smoltcp (new, or held back), so that it must
    /// know the connections first.
    pub(crate) fn syns_waiting(&self) -> bool {
        self.syn_arrived || !self.backlog.is_empty()
    }

    /// Starts a poll: the per-poll budgets, and the SYNs held back put in front of the frames
    /// received since.
    pub(crate) fn start_poll(&mut self, syn_budget: usize) {
        self.syn_budget = syn_budget;
        self.syn_arrived = false;
        self.syns_delivered = false;
        self.frame_budget = FRAMES_PER_POLL;
        self.byte_budget = BYTES_PER_POLL;
        self.release_backlog();
    }

    /// Puts the SYNs held back in front of the frames received since, for this poll.
    fn release_backlog(&mut self) {
        while let Some(syn) = self.backlog.pop_back() {
            self.received.push_front(syn);
        }
    }

    /// A token for one frame to send.
    fn tx(&mut self) -> Tx<'_> {
        Tx {
            to_send: &mut self.to_send,
            pool: &mut self.pool,
        }
    }

    pub(crate) fn new(mtu: usize) -> Self {
        Queues {
            received: VecDeque::new(),
            to_send: VecDeque::new(),
            pool: FramePool::default(),
            mtu,
            syn_budget: usize::MAX,
            syns_delivered: false,
            backlog: VecDeque::new(),
            frame_budget: FRAMES_PER_POLL,
            byte_budget: BYTES_PER_POLL,
            dropped: 0,
            resets: super::resets::Resets::default(),
            syn_arrived: false,
            connected: alloc::collections::BTreeSet::new(),
        }
    }
}

pub(crate) struct Rx(Bytes);
pub(crate) struct Tx<'a> {
    to_send: &'a mut VecDeque<Bytes>,
    pool: &'a mut FramePool,
}

impl phy::RxToken for Rx {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(&self.0)
    }
}

impl phy::TxToken for Tx<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut frame = self.pool.take(len);
        let result = f(&mut frame);
        self.to_send.push_back(self.pool.seal(frame));
        result
    }
}

impl phy::Device for Queues {
    type RxToken<'a> = Rx;
    type TxToken<'a> = Tx<'a>;

    fn receive(&mut self, _now: Instant) -> Option<(Rx, Tx<'_>)> {
        if self.frame_budget == 0 || self.byte_budget == 0 {
            return None;
        }
        let frame = loop {
            let frame = self.received.pop_front()?;
            let tcp = tcp_headers(&frame);
            if let Some((ip, tcp)) = &tcp {
                self.resets.note(ip, tcp);
            }
            let Some((ip, tcp)) = tcp.filter(|(_, tcp)| opens_a_connection(tcp)) else {
                break frame;
            };
            let key = (ip, tcp.src_port(), tcp.dst_port());
            if self.connected.contains(&key) {
                continue;
            }
            if self.syn_budget > 0 {
                self.syn_budget -= 1;
                self.syns_delivered = true;
                break frame;
            }
            if self.backlog.len() == BACKLOG {
                self.backlog.pop_front();
            }
            self.backlog.push_back(frame);
        };
        self.frame_budget -= 1;
        self.byte_budget = self.byte_budget.saturating_sub(frame.len());
        Some((Rx(frame), self.tx()))
    }

    fn transmit(&mut self, _now: Instant) -> Option<Tx<'_>> {
        Some(self.tx())
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ethernet;
        caps.max_transmission_unit = self.mtu + mirage_types::ETHERNET_HEADER_LEN;
        caps
    }
}

/// A frame's sender address and the TCP segment in it.
pub(crate) type TcpHeaders<'a> = (IpAddr, TcpPacket<&'a [u8]>);

/// The sender and the TCP segment in `frame`, if it is an IPv4 or IPv6 packet whose TCP
/// header follows the IP header at once (IPv6 extension headers are left to smoltcp) and
/// whose fixed headers are all there, so that their fixed fields can be read. Nothing is
/// verified beyond that: smoltcp checks the rest.
pub(crate) fn tcp_headers(frame: &[u8]) -> Option<TcpHeaders<'_>> {
    const TCP: u8 = 6;
    let ip = frame.get(14..)?;
    let (src, tcp) = match frame[12..14] {
        [0x08, 0x00] if ip.len() >= 20 && ip[9] == TCP => {
            let src: [u8; 4] = ip[12..16].try_into().ok()?;
            let tcp = ip.get(usize::from(ip[0] & 0x0f) * 4..)?;
            (IpAddr::V4(Ipv4Addr::from(src)), tcp)
        }
        [0x86, 0xdd] if ip.len() >= 40 && ip[6] == TCP => {
            let src: [u8; 16] = ip[8..24].try_into().ok()?;
            (IpAddr::V6(Ipv6Addr::from(src)), &ip[40..])
        }
        _ => return None,
    };
    (tcp.len() >= 20).then(|| (src, TcpPacket::new_unchecked(tcp)))
}

/// Whether `tcp` opens a connection (SYN without ACK).
fn opens_a_connection(tcp: &TcpPacket<&[u8]>) -> bool {
    tcp.syn() && !tcp.ack()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_tcp_syn(frame: &[u8]) -> bool {
        tcp_headers(frame).is_some_and(|(_, tcp)| opens_a_connection(&tcp))
    }

    #[test]
    fn recognises_syns_only() {
        let mut frame = vec![0u8; 14 + 20 + 20];
        frame[12] = 0x08;
        frame[14] = 0x45;
        frame[14 + 9] = 6;
        frame[14 + 20 + 13] = 0x02;
        assert!(is_tcp_syn(&frame));
        frame[14 + 20 + 13] = 0x12; // SYN-ACK
        assert!(!is_tcp_syn(&frame));
        assert!(!is_tcp_syn(&frame[..20]));
        assert!(!is_tcp_syn(&[]));
    }

    #[test]
    fn recognises_ipv6_syns_and_their_sender() {
        let mut frame = vec![0u8; 14 + 40 + 20];
        frame[12..14].copy_from_slice(&[0x86, 0xdd]);
        frame[14] = 0x60;
        frame[14 + 6] = 6;
        frame[14 + 8] = 0xfd;
        frame[14 + 23] = 1;
        frame[14 + 40 + 13] = 0x02;
        let (src, _) = tcp_headers(&frame).unwrap();
        assert_eq!(src.to_string(), "fd00::1");
        assert!(is_tcp_syn(&frame));
        // A hop-by-hop header first: not looked into.
        frame[14 + 6] = 0;
        assert!(!is_tcp_syn(&frame));
        assert!(!is_tcp_syn(&frame[..14 + 40 + 19]));
    }
}
