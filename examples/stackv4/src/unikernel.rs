//! The application, generic over its console and stack (the tutorial's `unikernel.ml`).

use crate::palette::Palette;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use mirage_types::{Console, Flow, Ipv4, Read, StackError, StackV4, TcpFlow, UdpDatagram};

/// How the application stopped.
#[derive(Debug)]
pub enum Stopped {
    /// The console failed.
    Console(mirage_types::ConsoleError),
    /// The stack failed (a port could not be bound, say).
    Stack(StackError),
}

impl fmt::Display for Stopped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stopped::Console(error) => write!(f, "console: {error}"),
            Stopped::Stack(error) => write!(f, "{error}"),
        }
    }
}

impl core::error::Error for Stopped {}

/// The tutorial's stackv4: prints the stack's address, then each UDP datagram to
/// `udp_port` (red) and each TCP connection to `tcp_port` (green) with what it sends first
/// (yellow).
pub struct Main<C, S> {
    console: C,
    stack: S,
    palette: Palette,
    udp_port: u16,
    tcp_port: u16,
}

impl<C, S> Main<C, S>
where
    C: Console + Clone + 'static,
    S: StackV4,
{
    /// Applies the functor to its devices; the tutorial listens on ports 53 and 8080.
    pub fn new(console: C, stack: S, palette: Palette, udp_port: u16, tcp_port: u16) -> Self {
        Main {
            console,
            stack,
            palette,
            udp_port,
            tcp_port,
        }
    }

    /// Registers the listeners and serves until the stack stops.
    pub async fn start(&self) -> Result<(), Stopped> {
        let addresses: Vec<String> = self
            .stack
            .ipv4()
            .get_ip()
            .iter()
            .map(ToString::to_string)
            .collect();
        self.console
            .log_s(&format!("IP address: {}\n", addresses.join(", ")))
            .await
            .map_err(Stopped::Console)?;

        let (console, palette) = (self.console.clone(), self.palette);
        self.stack.listen_udpv4(self.udp_port, move |datagram| {
            let console = console.clone();
            async move {
                let _ = console.log_s(&palette.red(&udp_line(&datagram))).await;
            }
        });

        let (console, tcp_port) = (self.console.clone(), self.tcp_port);
        self.stack.listen_tcpv4(tcp_port, move |flow| {
            let console = console.clone();
            async move {
                let peer = flow.get_dest();
                let line = format!("TCP {}:{} > _:{tcp_port}", peer.ip(), peer.port());
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
        });

        self.stack.listen().await.map_err(Stopped::Stack)
    }
}

/// `UDP <src>:<port> > <dst>:<port>: "<data>"`.
pub fn udp_line(datagram: &UdpDatagram) -> String {
    format!(
        "UDP {}:{} > {}:{}: \"{}\"",
        datagram.src,
        datagram.src_port,
        datagram.dst,
        datagram.dst_port,
        String::from_utf8_lossy(&datagram.data)
    )
}
