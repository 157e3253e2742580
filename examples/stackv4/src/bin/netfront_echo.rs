//! A helper of the real-Xen test (`tests/real_xen.rs`), not the tutorial's program: the
//! direct stack on this domain's vif 0 through our userspace Netfront, echoing every byte
//! of each TCP connection to port 7000 until the client closes its side (mir-stackv4 reads
//! one chunk per connection, so it cannot carry a large transfer).
//!
//! `netfront_echo ADDRESS NETMASK`, in a Xen domU whose kernel xen-netfront is not loaded.

use mirage_net::{Addressing, DirectStack};
use mirage_types::{Flow, Ipv4Config, Network, Read, StackV4, TcpListener};
use mirage_xen::front::Netfront;
use mirage_xen::platform::linux::GuestXen;
use std::net::Ipv4Addr;
use std::process::ExitCode;

async fn echo(address: Ipv4Addr, netmask: Ipv4Addr) -> Result<(), String> {
    let (xen, domid) = GuestXen::this_domain().await.map_err(|e| e.to_string())?;
    let netfront = Netfront::connect(xen, domid, 0)
        .await
        .map_err(|e| format!("vif 0: {e}"))?;
    let config = Ipv4Config::new(address, netmask, Vec::new());
    let stack = DirectStack::connect(netfront, Addressing::Static(config))
        .await
        .map_err(|e| e.to_string())?;
    let listener = stack.bind_tcpv4(7000).await.map_err(|e| e.to_string())?;
    println!("## ECHO-READY");
    loop {
        let flow = listener.accept().await.map_err(|e| e.to_string())?;
        // Reading goes on while a write waits: dom0's client (busybox nc) stops reading the
        // echo while its own write blocks, so an echo that stopped reading while its write
        // waited would close both windows and deadlock (seen in CI under TCG: both sides
        // then only probe the zero windows, until the gaps pass the stack's 120 s timeout).
        // What waits is bounded by what the client sends (the test sends 10 MiB).
        let (pending, mut to_echo) = tokio::sync::mpsc::unbounded_channel();
        let reading = async {
            // Until the client's end of file (or an error, said for the test's log).
            let ended = loop {
                match flow.read().await {
                    Ok(Read::Data(data)) => {
                        if pending.send(data).is_err() {
                            break "read: the echo stopped".to_string();
                        }
                    }
                    Ok(Read::Eof) => break "end of file".to_string(),
                    Err(error) => break format!("read: {error}"),
                }
            };
            drop(pending);
            ended
        };
        let writing = async {
            let mut echoed = 0usize;
            while let Some(data) = to_echo.recv().await {
                if let Err(error) = flow.write(&data).await {
                    // Dropping the receiver tells the reader to stop.
                    return (echoed, Some(format!("write: {error}")));
                }
                echoed += data.len();
            }
            (echoed, None)
        };
        let (read_end, (echoed, write_error)) = tokio::join!(reading, writing);
        let ended = write_error.unwrap_or(read_end);
        let _ = flow.close().await;
        println!("## echoed={echoed}");
        let link = stack.network().get_stats_counters();
        println!("## ended={ended}");
        println!(
            "## frames received={} sent={} dropped={}",
            link.rx_pkts,
            link.tx_pkts,
            stack.frames_dropped()
        );
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [address, netmask] = args.as_slice() else {
        eprintln!("usage: netfront_echo ADDRESS NETMASK");
        return ExitCode::from(2);
    };
    let (Ok(address), Ok(netmask)) = (address.parse(), netmask.parse()) else {
        eprintln!("netfront_echo: addresses like 169.254.100.2 255.255.255.0");
        return ExitCode::from(2);
    };
    match mirage_unix::run(echo(address, netmask)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("netfront_echo: {error}");
            ExitCode::FAILURE
        }
    }
}
