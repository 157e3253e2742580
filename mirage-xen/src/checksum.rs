//! Finishing TCP and UDP checksums a peer left blank: Linux's netfront leaves them to the
//! backend (`NETTXF_csum_blank`) whatever the backend says, and Linux's netback passes
//! frames from dom0's own stack with theirs blank (`NETRXF_csum_blank`). A device that does
//! not finish them (a tap device without a vnet header, a userspace stack that checks
//! them) would drop those frames.

/// The TCP or UDP checksum of the IPv4 or IPv6 packet in Ethernet frame `frame`, computed
/// and written in place. Frames that are neither are left alone (`false`); nothing is
/// trusted: lengths are checked against the frame.
pub(crate) fn complete(frame: &mut [u8]) -> bool {
    const ETHERNET: usize = 14;
    if frame.len() < ETHERNET {
        return false;
    }
    let (mut sum, protocol, l4_start, l4_len) = match u16::from_be_bytes([frame[12], frame[13]]) {
        0x0800 => {
            let Some(&version_ihl) = frame.get(ETHERNET) else {
                return false;
            };
            let header = usize::from(version_ihl & 0x0f) * 4;
            if version_ihl >> 4 != 4 || header < 20 || frame.len() < ETHERNET + header {
                return false;
            }
            let ip = &frame[ETHERNET..];
            let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
            // Fragments other than the first carry no L4 header.
            let fragment = u16::from_be_bytes([ip[6], ip[7]]);
            if total < header || ETHERNET + total > frame.len() || fragment & 0x1fff != 0 {
                return false;
            }
            let mut sum = add(0, &ip[12..20]);
            sum += u32::from(ip[9]) + (total - header) as u32;
            (sum, ip[9], ETHERNET + header, total - header)
        }
        0x86dd => {
            if frame.len() < ETHERNET + 40 {
                return false;
            }
            let ip = &frame[ETHERNET..];
            let payload = usize::from(u16::from_be_bytes([ip[4], ip[5]]));
            if ETHERNET + 40 + payload > frame.len() {
                return false;
            }
            // Only a TCP or UDP header right after the fixed header is handled.
            let mut sum = add(0, &ip[8..40]);
            sum += u32::from(ip[6]) + payload as u32;
            (sum, ip[6], ETHERNET + 40, payload)
        }
        _ => return false,
    };
    let field = match protocol {
        6 if l4_len >= 20 => 16,
        17 if l4_len >= 8 => 6,
        _ => return false,
    };
    let segment = &mut frame[l4_start..l4_start + l4_len];
    segment[field..field + 2].copy_from_slice(&[0, 0]);
    sum = add(sum, segment);
    let mut checksum = !fold(sum);
    if protocol == 17 && checksum == 0 {
        checksum = 0xffff;
    }
    segment[field..field + 2].copy_from_slice(&checksum.to_be_bytes());
    true
}

/// Adds `bytes` as big-endian 16-bit words (a last odd byte padded with zero).
fn add(mut sum: u32, bytes: &[u8]) -> u32 {
    let mut words = bytes.chunks_exact(2);
    for word in &mut words {
        sum += u32::from(u16::from_be_bytes([word[0], word[1]]));
    }
    if let [last] = words.remainder() {
        sum += u32::from(*last) << 8;
    }
    // Folded as it goes, so that no length of frame overflows.
    fold(sum).into()
}

fn fold(mut sum: u32) -> u16 {
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;

    /// An IPv4 TCP segment ("hello tcp world") whose checksum, 0x6d6d, was computed
    /// independently (Python, RFC 1071).
    const TCP: &str = "00163e00000100163e00000208004500003700010000400666ac0a0900020a0900019c901b58\
                       00000001000000005018ffff0000000068656c6c6f2074637020776f726c64";

    fn frame(hex: &str) -> Vec<u8> {
        (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn a_blank_tcp_checksum_is_filled_in() {
        let mut tcp = frame(TCP);
        assert!(complete(&mut tcp));
        assert_eq!(&tcp[14 + 20 + 16..14 + 20 + 18], &[0x6d, 0x6d]);
        // Whatever the field held before (a partial sum, say), the result is the same.
        tcp[14 + 20 + 16] = 0x12;
        assert!(complete(&mut tcp));
        assert_eq!(&tcp[14 + 20 + 16..14 + 20 + 18], &[0x6d, 0x6d]);
    }

    #[test]
    fn a_blank_udp_checksum_is_filled_in() {
        // The same addresses, UDP 40053 -> 53, "hello udp": 0x25b6 computed independently.
        let mut udp = frame(&TCP[..28]);
        let payload = b"hello udp";
        let ip_len = 20 + 8 + payload.len();
        udp.extend_from_slice(&[0x45, 0, 0, ip_len as u8, 0, 1, 0, 0, 64, 17, 0, 0]);
        udp.extend_from_slice(&[10, 9, 0, 2, 10, 9, 0, 1]);
        udp.extend_from_slice(&[0x9c, 0x75, 0, 53, 0, 8 + payload.len() as u8, 0, 0]);
        udp.extend_from_slice(payload);
        assert!(complete(&mut udp));
        assert_eq!(&udp[14 + 20 + 6..14 + 20 + 8], &[0x25, 0xb6]);
    }

    #[test]
    fn anything_else_or_anything_short_is_left_alone() {
        let tcp = frame(TCP);
        for cut in 0..tcp.len() {
            let mut short = tcp[..cut].to_vec();
            let before = short.clone();
            assert!(!complete(&mut short), "{cut}");
            assert_eq!(short, before);
        }
        let mut arp = tcp.clone();
        arp[12..14].copy_from_slice(&[0x08, 0x06]);
        assert!(!complete(&mut arp));
    }

    proptest::proptest! {
        /// Whatever a frontend puts in a frame, finishing its checksum never panics.
        #[test]
        fn any_frame_is_safe(mut frame in proptest::collection::vec(proptest::num::u8::ANY, 0..200),
                             ethertype in proptest::sample::select(vec![0x0800u16, 0x86dd, 0x0806]),
                             ihl in 0u8..16) {
            if frame.len() > 14 {
                frame[12..14].copy_from_slice(&ethertype.to_be_bytes());
                frame[14] = 0x40 | ihl;
            }
            let _ = complete(&mut frame);
        }
    }
}
