//! Which peers reset a connection: smoltcp closes a socket the same way for a reset it
//! received and for its own timeout, so the stack notes the resets it hands smoltcp, and a
//! flow that finds its socket closed can tell its application which of the two it was.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

use alloc::collections::VecDeque;
use core::net::{IpAddr, SocketAddr};
use smoltcp::wire::TcpPacket;

/// Resets remembered at most, newest kept: a flood of resets costs bounded memory (a flow
/// whose reset was pushed out by it reports a timeout instead).
const KEPT: usize = 256;

/// The connections (local port, remote end) resets arrived for, newest last.
#[derive(Default)]
pub(crate) struct Resets(VecDeque<(u16, SocketAddr)>);

impl Resets {
    /// Notes a received TCP segment (as [`super::device::tcp_headers`] found it) if it has
    /// RST set.
    pub(crate) fn note(&mut self, src: &IpAddr, tcp: &TcpPacket<&[u8]>) {
        if !tcp.rst() {
            return;
        }
        let remote = SocketAddr::new(*src, tcp.src_port());
        let local_port = tcp.dst_port();
        if self.0.len() == KEPT {
            self.0.pop_front();
        }
        self.0.push_back((local_port, remote));
    }

    /// Whether `remote` sent a reset to `local_port`. (One smoltcp found outside the window
    /// and ignored counts too: a connection that later times out is then reported reset.)
    pub(crate) fn seen(&self, local_port: u16, remote: SocketAddr) -> bool {
        self.0.contains(&(local_port, remote))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, SocketAddrV4};

    impl Resets {
        fn note_frame(&mut self, frame: &[u8]) {
            if let Some((ip, tcp)) = super::super::device::tcp_headers(frame) {
                self.note(&ip, &tcp);
            }
        }
    }

    /// An Ethernet frame carrying a TCP header from 10.0.0.9:`src` to port `dst`.
    fn segment(src: u16, dst: u16, flags: u8) -> Vec<u8> {
        let mut frame = vec![0u8; 14 + 20 + 20];
        frame[12] = 0x08;
        frame[14] = 0x45;
        frame[14 + 9] = 6;
        frame[14 + 12..14 + 16].copy_from_slice(&[10, 0, 0, 9]);
        frame[34..36].copy_from_slice(&src.to_be_bytes());
        frame[36..38].copy_from_slice(&dst.to_be_bytes());
        frame[34 + 13] = flags;
        frame
    }

    #[test]
    fn resets_are_noted_other_segments_and_junk_not() {
        let mut resets = Resets::default();
        let peer = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 9), 80));
        resets.note_frame(&segment(80, 4000, 0x10)); // an ACK
        resets.note_frame(&segment(80, 4000, 0x14)[..40]); // a reset cut short
        resets.note_frame(&[]);
        assert!(!resets.seen(4000, peer));
        resets.note_frame(&segment(80, 4000, 0x14)); // RST-ACK
        assert!(resets.seen(4000, peer));
        assert!(!resets.seen(4001, peer));
    }

    #[test]
    fn a_flood_of_resets_is_bounded_and_keeps_the_newest() {
        let mut resets = Resets::default();
        for port in 0..10_000u16 {
            resets.note_frame(&segment(80, port, 0x04));
        }
        assert_eq!(resets.0.len(), KEPT);
        let peer = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 9), 80));
        assert!(resets.seen(9_999, peer));
        assert!(!resets.seen(0, peer));
    }
}
