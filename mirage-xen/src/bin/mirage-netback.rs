//! `mirage-netback`: gives a Xen guest's network frontend a link to a tap device in dom0,
//! from a dom0 process: `Netback<Tap>` over `/dev/xen/gntdev` and `/dev/xen/evtchn`, the
//! store through xenstored's socket. It makes the interface's store nodes itself (the
//! guest's netfront then finds it), serves one connection after another, and stops when the
//! interface is removed, the guest goes away, or it is asked to (`SIGTERM`, `SIGINT`): it
//! then closes the interface and removes its store nodes. Restarted while a guest is still
//! connected to an earlier run, it closes that stale connection instead of waiting for it.

use clap::Parser;
use mirage_unix::Tap;
use mirage_xen::back::{Netback, Started, remove_device, start_device};
use mirage_xen::platform::Store;
use mirage_xen::platform::linux::{LinuxXen, XsSocket};
use mirage_xen::tool::serve_until_stopped;
use mirage_xen::xenbus::DevicePaths;
use mirage_xen::xenstore::XsClient;
use std::process::ExitCode;

/// Links a Xen guest's network frontend to a tap device.
#[derive(Parser)]
#[command(name = "mirage-netback", version)]
struct Args {
    /// The guest's domain id.
    #[arg(long)]
    domain: u16,
    /// The tap device (made if missing; give it an address and bring it up).
    #[arg(long, default_value = "mirage0")]
    tap: String,
    /// The guest interface's number (`vif` N).
    #[arg(long, default_value_t = 0)]
    vif: u32,
    /// The guest interface's MAC address.
    #[arg(long, default_value = "00:16:3e:00:00:02")]
    mac: String,
    /// Record every frame between the guest and the tap device to this pcap file.
    #[arg(long, value_name = "FILE")]
    pcap: Option<std::path::PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match mirage_unix::run(serve(&args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("mirage-netback: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: &Args) -> Result<(), String> {
    if args.mac.parse::<mirage_types::MacAddr>().is_err() {
        return Err(format!("{} is not a MAC address", args.mac));
    }
    let tap = Tap::create(&args.tap).map_err(|e| e.to_string())?;
    let store = XsClient::new(XsSocket::connect(None).await.map_err(|e| e.to_string())?);
    let xen = LinuxXen::new(store.clone());
    // Our own backend directory type, so that dom0's kernel netback leaves it alone; the
    // guest's netfront only follows its `backend` node.
    let paths = DevicePaths {
        frontend_id: args.domain,
        frontend: format!("/local/domain/{}/device/vif/{}", args.domain, args.vif),
        backend_id: 0,
        backend: format!(
            "/local/domain/0/backend/mirage-vif/{}/{}",
            args.domain, args.vif
        ),
    };
    let handle = args.vif.to_string();
    let started = start_device(&store, &paths, &[("mac", &args.mac), ("handle", &handle)])
        .await
        .map_err(|e| e.to_string())?;
    match started {
        Started::Made => {
            for (node, value) in [("mac", args.mac.as_str()), ("handle", &handle)] {
                store
                    .write(0, &format!("{}/{node}", paths.frontend), value)
                    .await
                    .map_err(|e| e.to_string())?;
            }
        }
        Started::ClosedStale(state) => eprintln!(
            "mirage-netback: domain {}'s vif {} was {state:?} with an earlier backend: closed \
             that connection; a Linux guest takes the interface again only once it is \
             attached anew",
            args.domain, args.vif
        ),
    }
    println!(
        "mirage-netback: domain {}'s vif {} ({}) linked to {}",
        args.domain, args.vif, args.mac, args.tap
    );
    eprintln!("mirage-netback: waiting for the guest");
    let outcome = match &args.pcap {
        Some(path) => {
            let recorded = mirage_net::Recorded::new(tap, path)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            let netback = Netback::new(xen, paths.clone(), recorded);
            serve_until_stopped(netback.run(), || netback.stop(), "interface").await
        }
        None => {
            let netback = Netback::new(xen, paths.clone(), tap);
            serve_until_stopped(netback.run(), || netback.stop(), "interface").await
        }
    };
    let removed = remove_device(&store, &paths)
        .await
        .map_err(|e| e.to_string());
    outcome.and(removed)
}
