//! `mir-ping6`: Mirage's ping6 example. The direct stack (on the tap device the stack keys
//! name, with IPv6 from `--ipv6` and router advertisements) sends ICMPv6 echo requests to
//! a target, or ICMP ones to an IPv4 target, and prints the replies as `ping` does. It ends
//! with status 0 if any reply came, else 1.

use clap::Parser;
use mir_stackv4::keys::StackKeys;
use mir_stackv4::ping::{reply_line, start_line, summary};
use mirage_console::UnixConsole;
use mirage_types::Console;
use std::net::IpAddr;
use std::process::ExitCode;
use std::time::Duration;

/// Pings a host from the direct stack.
#[derive(Debug, Parser)]
#[command(name = "mir-ping6", version)]
struct Keys {
    /// The direct stack (`--net` is always `direct`).
    #[command(flatten)]
    stack: StackKeys,
    /// Echo requests to send.
    #[arg(long, default_value_t = 4)]
    count: u32,
    /// Milliseconds between requests, and the longest wait for each reply.
    #[arg(long, default_value_t = 1000)]
    interval: u64,
    /// Payload bytes per request.
    #[arg(long, default_value_t = 56)]
    size: usize,
    /// Seconds to wait for SLAAC to give a global address before the first request, when the
    /// target is a global IPv6 address (0: do not wait).
    #[arg(long, default_value_t = 10)]
    address_wait: u64,
    /// The host to ping (IPv6 or IPv4).
    target: IpAddr,
}

fn main() -> ExitCode {
    let keys = Keys::parse();
    mirage_unix::run(async {
        let console = UnixConsole::new();
        let stack = match mir_stackv4::stack::direct(&console, &keys.stack).await {
            Ok(stack) => stack,
            Err(message) => {
                eprintln!("mir-ping6: {message}");
                return ExitCode::FAILURE;
            }
        };
        let global = matches!(keys.target, IpAddr::V6(v6) if !v6.is_unicast_link_local());
        if global && keys.stack.accept_router_advertisements && keys.stack.ipv6.is_empty() {
            // Router advertisements give the address the request leaves from.
            for _ in 0..keys.address_wait * 10 {
                let has_global = stack.ip_addresses().iter().any(
                    |cidr| matches!(cidr.address(), IpAddr::V6(v6) if !v6.is_unicast_link_local()),
                );
                if has_global {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        let _ = console.log_s(&start_line(keys.target, keys.size)).await;
        let ping = stack.ping();
        let payload: Vec<u8> = (0..keys.size).map(|n| n as u8).collect();
        let interval = Duration::from_millis(keys.interval);
        let mut received = 0;
        for seq in 1..=keys.count {
            let started = tokio::time::Instant::now();
            match ping.echo(keys.target, seq as u16, &payload, interval).await {
                Ok(Some(rtt)) => {
                    received += 1;
                    let line = reply_line(keys.target, keys.size, seq as u16, rtt);
                    let _ = console.log_s(&line).await;
                }
                Ok(None) => {}
                Err(error) => {
                    eprintln!("mir-ping6: {error}");
                    return ExitCode::FAILURE;
                }
            }
            if seq < keys.count {
                tokio::time::sleep_until(started + interval).await;
            }
        }
        for line in summary(keys.target, keys.count, received) {
            let _ = console.log_s(&line).await;
        }
        if received > 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }
    })
}
