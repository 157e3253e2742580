//! The stackv4 application on Mirage 4's dual stack: the same lines, for IPv4 and IPv6
//! peers on the same two ports.

use crate::palette::Palette;
use crate::unikernel::Stopped;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use mirage_types::{Console, IpCidr, Read, StackV4V6, TcpFlow, UdpDatagramV4V6};

/// The stackv4 tutorial over a [`StackV4V6`]: prints the stack's addresses, then each UDP
/// datagram to `udp_port` (red) and each TCP connection to `tcp_port` (green) with what it
/// sends first (yellow), from IPv4 and IPv6 peers alike.
pub struct DualMain<C, S> {
    console: C,
    stack: S,
    palette: Palette,
    udp_port: u16,
    tcp_port: u16,
}

impl<C, S> DualMain<C, S>
where
    C: Console + Clone + 'static,
    S: StackV4V6,
{
    /// Applies the functor to its devices.
    pub fn new(console: C, stack: S, palette: Palette, udp_port: u16, tcp_port: u16) -> Self {
        DualMain {
            console,
            stack,
            palette,
            udp_port,
            tcp_port,
        }
    }

    /// Registers the listeners (for both families) and serves until the stack stops.
    pub async fn start(&self) -> Result<(), Stopped> {
        let line = addresses_line(&self.stack.configured_ips());
        self.console.log_s(&line).await.map_err(Stopped::Console)?;

        let (console, palette) = (self.console.clone(), self.palette);
        self.stack.listen_udp(self.udp_port, move |datagram| {
            let console = console.clone();
            async move {
                let _ = console.log_s(&palette.red(&udp_line(&datagram))).await;
            }
        });
        let (console, tcp_port) = (self.console.clone(), self.tcp_port);
        self.stack.listen_tcp(tcp_port, move |flow| {
            greet(console.clone(), palette, tcp_port, flow)
        });
        self.stack.listen_v4v6().await.map_err(Stopped::Stack)
    }
}

/// Says who connected and what it sent first, then closes.
async fn greet<C: Console, F: TcpFlow>(console: C, palette: Palette, port: u16, flow: F) {
    let line = format!("TCP {} > _:{port}", flow.peer());
    let _ = console.log_s(&palette.green(&line)).await;
    let line = match flow.read().await {
        Ok(Read::Data(data)) => {
            let text = String::from_utf8_lossy(&data);
            let line = palette.yellow(&format!("read: {} \"{text}\"", data.len()));
            let _ = flow.close().await;
            line
        }
        Ok(Read::Eof) => palette.red("read: eof"),
        Err(_) => palette.red("read: error"),
    };
    let _ = console.log_s(&line).await;
}

/// `IP addresses: 10.0.0.2/24, fe80::ff:fe00:1/64` (or `none`, for a stack that has none
/// yet).
pub fn addresses_line(addresses: &[IpCidr]) -> String {
    if addresses.is_empty() {
        return "IP addresses: none\n".into();
    }
    let list: Vec<String> = addresses.iter().map(ToString::to_string).collect();
    format!("IP addresses: {}\n", list.join(", "))
}

/// `UDP <src> > <dst>: "<data>"`, with IPv6 addresses in brackets (`[fd00::1]:5353`).
pub fn udp_line(datagram: &UdpDatagramV4V6) -> String {
    format!(
        "UDP {} > {}: \"{}\"",
        datagram.sender(),
        core::net::SocketAddr::new(datagram.dst, datagram.dst_port),
        String::from_utf8_lossy(&datagram.data)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_bracket_ipv6_and_keep_ipv4_as_the_tutorial_has_it() {
        let datagram = UdpDatagramV4V6 {
            src: "fd00::1".parse().unwrap(),
            src_port: 5353,
            dst: "fd00::2".parse().unwrap(),
            dst_port: 53,
            data: "hi".into(),
        };
        assert_eq!(
            udp_line(&datagram),
            "UDP [fd00::1]:5353 > [fd00::2]:53: \"hi\""
        );
        let v4 = UdpDatagramV4V6 {
            src: "127.0.0.1".parse().unwrap(),
            dst: "0.0.0.0".parse().unwrap(),
            ..datagram
        };
        assert_eq!(udp_line(&v4), "UDP 127.0.0.1:5353 > 0.0.0.0:53: \"hi\"");
        assert_eq!(addresses_line(&[]), "IP addresses: none\n");
        let listed = [
            "10.0.0.2/24".parse().unwrap(),
            "fd00::2/64".parse().unwrap(),
        ];
        assert_eq!(
            addresses_line(&listed),
            "IP addresses: 10.0.0.2/24, fd00::2/64\n"
        );
    }
}
