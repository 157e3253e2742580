//! The lines `mir-ping6` prints, as the kernel's `ping` prints them.

use alloc::format;
use alloc::string::String;
use core::net::IpAddr;
use core::time::Duration;

/// `PING fd00::1 56 data bytes`.
pub fn start_line(target: IpAddr, size: usize) -> String {
    format!("PING {target} {size} data bytes")
}

/// `64 bytes from fd00::1: icmp_seq=1 time=0.42 ms` (the size counts the 8-byte ICMP
/// header, as `ping` does).
pub fn reply_line(target: IpAddr, size: usize, seq: u16, rtt: Duration) -> String {
    let millis = rtt.as_secs_f64() * 1000.0;
    format!(
        "{} bytes from {target}: icmp_seq={seq} time={millis:.2} ms",
        size + 8
    )
}

/// `--- fd00::1 ping statistics ---` and `3 packets transmitted, 3 received, 0% packet
/// loss`.
pub fn summary(target: IpAddr, sent: u32, received: u32) -> [String; 2] {
    let loss = (sent.saturating_sub(received) * 100)
        .checked_div(sent)
        .unwrap_or(0);
    [
        format!("--- {target} ping statistics ---"),
        format!("{sent} packets transmitted, {received} received, {loss}% packet loss"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_pings() {
        let target: IpAddr = "fd00::1".parse().unwrap();
        assert_eq!(start_line(target, 56), "PING fd00::1 56 data bytes");
        assert_eq!(
            reply_line(target, 56, 1, Duration::from_micros(420)),
            "64 bytes from fd00::1: icmp_seq=1 time=0.42 ms"
        );
        assert_eq!(
            summary(target, 3, 2),
            [
                "--- fd00::1 ping statistics ---",
                "3 packets transmitted, 2 received, 33% packet loss"
            ]
        );
    }
}
