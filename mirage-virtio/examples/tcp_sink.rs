//! A test kernel for the virtio-net benchmark: the direct stack (smoltcp) on the first
//! virtio-net interface, at the address its command line gives (`-append "IP PORT
//! CONNECTIONS"`),
//! takes CONNECTIONS TCP connections on PORT one after another and reads each to its end,
//! saying after each `sink: BYTES bytes in MS ms, ALLOCATIONS allocations over FRAMES
//! frames; heap in use BYTES`, then powers off.

#![no_std]
#![no_main]

extern crate alloc;

use alloc::format;
use alloc::string::{String, ToString};
use core::net::Ipv4Addr;
use core::pin::pin;
use futures::future::{Either, select};
use mirage_net::{Addressing, DirectStack, StackPlatform};
use mirage_types::{
    Console, Flow, Ipv4Config, MonotonicClock, Network, Read, StackV4, TcpListener, Time,
};
use mirage_unikernel::heap;
use mirage_virtio::{Virtio, block_on};

fn run(virtio: Virtio) -> Result<(), String> {
    let mut words = virtio.command_line().split_whitespace();
    let mut next = |what: &str| words.next().ok_or(format!("no {what} on the command line"));
    let ip: Ipv4Addr = next("address")?
        .parse()
        .map_err(|e| format!("address: {e}"))?;
    let port: u16 = next("port")?.parse().map_err(|e| format!("port: {e}"))?;
    let connections: u32 = next("count")?.parse().map_err(|e| format!("count: {e}"))?;
    let random = virtio.random().map_err(|e| e.to_string())?;
    let clock = virtio.monotonic_clock();
    let platform = StackPlatform::new(virtio.time(), clock, random);
    let console = virtio.console();
    block_on(async {
        let vif = virtio.net(0).map_err(|e| e.to_string())?;
        let addressing = Addressing::Static(Ipv4Config::default().address(ip));
        let (stack, driver) =
            DirectStack::on_platform(vif, addressing, platform).map_err(|e| e.to_string())?;
        let sink = async {
            let listener = stack.bind_tcpv4(port).await.map_err(|e| e.to_string())?;
            console
                .log_s("sink listening")
                .await
                .map_err(|e| e.to_string())?;
            for _ in 0..connections {
                let flow = listener.accept().await.map_err(|e| e.to_string())?;
                let (allocations, frames) = (
                    heap::allocations(),
                    stack.network().get_stats_counters().rx_pkts,
                );
                let start = clock.elapsed_ns();
                let mut bytes = 0u64;
                while let Read::Data(data) = flow.read().await.map_err(|e| e.to_string())? {
                    bytes += data.len() as u64;
                }
                let ms = (clock.elapsed_ns() - start) / 1_000_000;
                let allocations = heap::allocations() - allocations;
                let frames = stack.network().get_stats_counters().rx_pkts - frames;
                drop(flow);
                let (used, _) = heap::usage();
                let line = format!(
                    "sink: {bytes} bytes in {ms} ms, {allocations} allocations over {frames} \
                     frames; heap in use {used} bytes"
                );
                console.log_s(&line).await.map_err(|e| e.to_string())?;
            }
            // The last close's FIN goes out while the stack still runs.
            virtio
                .time()
                .sleep(core::time::Duration::from_secs(1))
                .await;
            Ok::<(), String>(())
        };
        match select(driver, pin!(sink)).await {
            Either::Left(((), _)) => Err("the network stack stopped".into()),
            Either::Right((outcome, _)) => outcome,
        }
    })
}

mirage_virtio::main!(run);
