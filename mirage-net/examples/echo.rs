//! A TCP echo server in the pull form, generic over the stack: bind, accept, and echo each
//! connection line by line through a `FlowChannel`, many connections at once.
//!
//! `cargo run -p mirage-net --example echo -- [PORT]` (then `nc 127.0.0.1 PORT`);
//! `cargo test -p mirage-net --example echo` runs it against clients.

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use mirage_net::FlowChannel;
use mirage_types::{Channel, StackFlow, StackV4, TcpListener};

/// Echoes lines on every connection `listener` accepts until the stack is disconnected.
pub async fn echo<S: StackV4>(listener: S::TcpListener) {
    let mut connections = FuturesUnordered::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(flow) => connections.push(echo_lines::<S>(flow)),
                Err(_) => break,
            },
            Some(()) = connections.next(), if !connections.is_empty() => {}
        }
    }
}

async fn echo_lines<S: StackV4>(flow: StackFlow<S>) {
    let channel = FlowChannel::new(flow);
    while let Ok(Some(line)) = channel.read_line().await {
        channel.write_line(&line);
        if channel.flush().await.is_err() {
            return;
        }
    }
    let _ = channel.close().await;
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port: u16 = std::env::args().nth(1).map_or(Ok(7), |p| p.parse())?;
    mirage_unix::run(async {
        let stack = mirage_net::SocketStack::new();
        let listener = stack.bind_tcpv4(port).await?;
        println!("echo on {}", listener.local_addr());
        echo::<mirage_net::SocketStack>(listener).await;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use mirage_net::{SocketStack, StackConfig};
    use mirage_types::{Device, Tcpv4};
    use std::net::Ipv4Addr;

    #[test]
    fn echoes_several_clients_at_once() {
        mirage_unix::run(async {
            let stack =
                SocketStack::with_config(StackConfig::new().interfaces(vec![Ipv4Addr::LOCALHOST]));
            let listener = stack.bind_tcpv4(0).await.unwrap();
            let address = listener.local_addr();
            tokio::task::spawn_local(echo::<SocketStack>(listener));
            let clients: Vec<_> = (0..3).map(|_| stack.tcpv4()).collect();
            let mut channels = Vec::new();
            for tcp in &clients {
                channels.push(FlowChannel::new(
                    tcp.create_connection(address).await.unwrap(),
                ));
            }
            // All three are open at once; answers come back on each.
            for (i, channel) in channels.iter().enumerate() {
                channel.write_line(format!("client {i}").as_bytes());
                channel.flush().await.unwrap();
            }
            for (i, channel) in channels.iter().enumerate() {
                let line = channel.read_line().await.unwrap().unwrap();
                assert_eq!(line, format!("client {i}"));
            }
            stack.disconnect().await;
        });
    }
}
