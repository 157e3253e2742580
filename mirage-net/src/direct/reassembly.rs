//! IPv6 fragment reassembly in front of smoltcp, which reassembles IPv4 but answers an IPv6
//! fragment with "unrecognised next header" (its IPv6 reassembly serves 6LoWPAN only).
//!
//! A frame whose IPv6 header is followed by a Fragment header is held until its datagram is
//! whole, then handed on as one frame without the Fragment header. Memory is bounded
//! whatever peers send: at most [`DATAGRAMS`] datagrams in progress (the oldest dropped for
//! a new one), each at most 65,535 bytes, none kept beyond [`LIFETIME`]. Fragments that
//! overlap drop their datagram (RFC 5722); so do ones that run past 65,535 bytes, or a
//! non-final fragment whose length is not a multiple of eight.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

use alloc::collections::VecDeque;
use bytes::Bytes;
use core::time::Duration;

/// Datagrams being reassembled at once, at most.
pub(crate) const DATAGRAMS: usize = 4;
/// How long the fragments of an incomplete datagram are kept (RFC 8200's 60 seconds).
pub(crate) const LIFETIME: Duration = Duration::from_secs(60);
/// The largest IPv6 payload without jumbograms.
const MAX_PAYLOAD: usize = 65_535;

const ETHERNET: usize = 14;
const IPV6: usize = 40;
const FRAGMENT: usize = 8;
/// The Fragment header's next-header number.
const FRAGMENT_HEADER: u8 = 44;

/// What became of a frame offered to the reassembly.
pub(crate) enum Offered {
    /// Not a fragment: for smoltcp as it is.
    Pass(Bytes),
    /// A fragment, held (or dropped) until its datagram is whole.
    Held,
    /// The last missing fragment: the whole datagram, as one frame.
    Whole(Bytes),
}

/// One datagram being put together.
struct Datagram {
    /// Source, destination and identification.
    key: ([u8; 16], [u8; 16], u32),
    /// The Ethernet and IPv6 headers of its first fragment.
    headers: [u8; ETHERNET + IPV6],
    /// The protocol after the Fragment header.
    next: u8,
    data: Vec<u8>,
    /// The byte ranges received, sorted and disjoint.
    have: Vec<(usize, usize)>,
    /// The datagram's length, once the last fragment came.
    total: Option<usize>,
    /// When its first fragment came.
    since: Duration,
}

/// The datagrams in progress, oldest first.
#[derive(Default)]
pub(crate) struct Reassembly {
    datagrams: VecDeque<Datagram>,
}

impl Reassembly {
    /// Takes `frame` received at `now`.
    pub(crate) fn offer(&mut self, frame: Bytes, now: Duration) -> Offered {
        let Some(fragment) = Fragment::parse(&frame) else {
            return Offered::Pass(frame);
        };
        self.datagrams
            .retain(|datagram| now.saturating_sub(datagram.since) < LIFETIME);
        let end = fragment.offset + fragment.data.len();
        let malformed = end > MAX_PAYLOAD || (fragment.more && fragment.data.len() % 8 != 0);
        let position = self.datagrams.iter().position(|d| d.key == fragment.key);
        if malformed {
            if let Some(at) = position {
                self.datagrams.remove(at);
            }
            return Offered::Held;
        }
        let at = match position {
            Some(at) => at,
            None => {
                if self.datagrams.len() == DATAGRAMS {
                    self.datagrams.pop_front();
                }
                let mut headers = [0; ETHERNET + IPV6];
                headers.copy_from_slice(&frame[..ETHERNET + IPV6]);
                self.datagrams.push_back(Datagram {
                    key: fragment.key,
                    headers,
                    next: fragment.next,
                    data: Vec::new(),
                    have: Vec::new(),
                    total: None,
                    since: now,
                });
                self.datagrams.len() - 1
            }
        };
        let datagram = &mut self.datagrams[at];
        let start = fragment.offset;
        let overlaps = datagram.have.iter().any(|&(s, e)| start < e && s < end);
        let beyond_last = datagram.total.is_some_and(|total| end > total);
        let last_too_short = !fragment.more && datagram.have.iter().any(|&(_, e)| e > end);
        let second_last = !fragment.more && datagram.total.is_some();
        if overlaps || beyond_last || last_too_short || second_last {
            self.datagrams.remove(at);
            return Offered::Held;
        }
        if !fragment.more {
            datagram.total = Some(end);
        }
        if datagram.data.len() < end {
            datagram.data.resize(end, 0);
        }
        datagram.data[start..end].copy_from_slice(fragment.data);
        if start == 0 {
            datagram.next = fragment.next;
        }
        datagram.have.push((start, end));
        datagram.have.sort_unstable();
        let whole = datagram
            .total
            .is_some_and(|total| covers(&datagram.have, total));
        if !whole {
            return Offered::Held;
        }
        let datagram = self.datagrams.remove(at).expect("present");
        Offered::Whole(datagram.into_frame())
    }
}

impl Datagram {
    /// The frame of the whole datagram: the first fragment's headers, the Fragment header's
    /// next header in place of its own number, and the payload's length.
    fn into_frame(self) -> Bytes {
        let mut frame = Vec::with_capacity(ETHERNET + IPV6 + self.data.len());
        frame.extend_from_slice(&self.headers);
        let length = self.data.len() as u16;
        frame[ETHERNET + 4..ETHERNET + 6].copy_from_slice(&length.to_be_bytes());
        frame[ETHERNET + 6] = self.next;
        frame.extend_from_slice(&self.data);
        Bytes::from(frame)
    }
}

/// Whether sorted, disjoint `ranges` cover `0..total` with no gap.
fn covers(ranges: &[(usize, usize)], total: usize) -> bool {
    let mut reached = 0;
    for &(start, end) in ranges {
        if start != reached {
            return false;
        }
        reached = end;
    }
    reached == total
}

/// A fragment as its frame carries it.
struct Fragment<'a> {
    key: ([u8; 16], [u8; 16], u32),
    next: u8,
    offset: usize,
    more: bool,
    data: &'a [u8],
}

impl<'a> Fragment<'a> {
    /// The fragment in `frame`, if it is an IPv6 packet whose fixed header is followed by a
    /// Fragment header, all there.
    fn parse(frame: &'a [u8]) -> Option<Self> {
        if frame.get(12..14)? != [0x86, 0xdd] {
            return None;
        }
        let ip = frame.get(ETHERNET..)?;
        if ip.len() < IPV6 + FRAGMENT || ip[6] != FRAGMENT_HEADER {
            return None;
        }
        let payload = usize::from(u16::from_be_bytes([ip[4], ip[5]]));
        // The payload as the header says, cut to what came (Ethernet pads short frames).
        let payload = ip.get(IPV6..IPV6 + payload).unwrap_or(&ip[IPV6..]);
        let header = payload.get(..FRAGMENT)?;
        let offset_field = u16::from_be_bytes([header[2], header[3]]);
        Some(Fragment {
            key: (
                ip[8..24].try_into().ok()?,
                ip[24..40].try_into().ok()?,
                u32::from_be_bytes(header[4..8].try_into().ok()?),
            ),
            next: header[0],
            offset: usize::from(offset_field & !7),
            more: offset_field & 1 == 1,
            data: &payload[FRAGMENT..],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A frame with fragment (`offset`, `more`) of datagram `id` carrying `data`.
    fn fragment(id: u32, offset: usize, more: bool, data: &[u8]) -> Bytes {
        let mut frame = vec![0u8; ETHERNET + IPV6 + FRAGMENT];
        frame[12..14].copy_from_slice(&[0x86, 0xdd]);
        frame[ETHERNET] = 0x60;
        let payload = (FRAGMENT + data.len()) as u16;
        frame[ETHERNET + 4..ETHERNET + 6].copy_from_slice(&payload.to_be_bytes());
        frame[ETHERNET + 6] = FRAGMENT_HEADER;
        frame[ETHERNET + 8] = 0xfd;
        let f = ETHERNET + IPV6;
        frame[f] = 17;
        frame[f + 2..f + 4].copy_from_slice(&((offset as u16) | u16::from(more)).to_be_bytes());
        frame[f + 4..f + 8].copy_from_slice(&id.to_be_bytes());
        frame.extend_from_slice(data);
        Bytes::from(frame)
    }

    fn whole(offered: Offered) -> Option<Bytes> {
        match offered {
            Offered::Whole(frame) => Some(frame),
            _ => None,
        }
    }

    #[test]
    fn out_of_order_fragments_make_the_datagram() {
        let mut reassembly = Reassembly::default();
        let t = Duration::ZERO;
        let data: Vec<u8> = (0..40u8).collect();
        assert!(whole(reassembly.offer(fragment(1, 32, false, &data[32..]), t)).is_none());
        assert!(whole(reassembly.offer(fragment(1, 0, true, &data[..16]), t)).is_none());
        let frame = whole(reassembly.offer(fragment(1, 16, true, &data[16..32]), t)).unwrap();
        assert_eq!(&frame[ETHERNET + IPV6..], &data[..]);
        assert_eq!(frame[ETHERNET + 6], 17);
        assert_eq!(u16::from_be_bytes([frame[18], frame[19]]), 40);
        assert!(reassembly.datagrams.is_empty());
    }

    #[test]
    fn an_atomic_fragment_passes_at_once_and_other_frames_pass_untouched() {
        let mut reassembly = Reassembly::default();
        let frame = whole(reassembly.offer(fragment(7, 0, false, b"abcdefgh"), Duration::ZERO));
        assert_eq!(&frame.unwrap()[ETHERNET + IPV6..], b"abcdefgh");
        let ipv4 = Bytes::from_static(&[0; 60]);
        assert!(matches!(
            reassembly.offer(ipv4, Duration::ZERO),
            Offered::Pass(_)
        ));
    }

    #[test]
    fn overlaps_and_bad_lengths_drop_the_datagram() {
        let mut reassembly = Reassembly::default();
        let t = Duration::ZERO;
        let _ = reassembly.offer(fragment(1, 0, true, &[1; 16]), t);
        let _ = reassembly.offer(fragment(1, 8, true, &[2; 16]), t); // overlaps
        assert!(reassembly.datagrams.is_empty());
        let _ = reassembly.offer(fragment(2, 0, true, &[1; 12]), t); // not a multiple of 8
        assert!(reassembly.datagrams.is_empty());
        let _ = reassembly.offer(fragment(3, 65_528, true, &[1; 16]), t); // past 65,535
        assert!(reassembly.datagrams.is_empty());
        let _ = reassembly.offer(fragment(4, 0, true, &[1; 8]), t);
        let _ = reassembly.offer(fragment(4, 16, false, &[1; 8]), t);
        assert!(whole(reassembly.offer(fragment(4, 8, true, &[1; 8]), t)).is_some());
    }

    #[test]
    fn floods_keep_four_datagrams_and_old_ones_expire() {
        let mut reassembly = Reassembly::default();
        for id in 0..10_000 {
            let _ = reassembly.offer(fragment(id, 0, true, &[0; 1024]), Duration::ZERO);
        }
        assert_eq!(reassembly.datagrams.len(), DATAGRAMS);
        // The newest are kept.
        assert!(reassembly.datagrams.iter().any(|d| d.key.2 == 9_999));
        let later = LIFETIME + Duration::from_secs(1);
        let _ = reassembly.offer(fragment(20_000, 0, true, &[0; 8]), later);
        assert_eq!(reassembly.datagrams.len(), 1);
    }

    #[test]
    fn truncated_and_junk_frames_never_panic() {
        let mut reassembly = Reassembly::default();
        let full = fragment(1, 8, true, &[9; 64]);
        for len in 0..full.len() {
            let _ = reassembly.offer(full.slice(..len), Duration::ZERO);
        }
        let mut junk = full.to_vec();
        junk[ETHERNET + 4] = 0xff; // a payload length past the frame
        let _ = reassembly.offer(Bytes::from(junk), Duration::ZERO);
    }
}
