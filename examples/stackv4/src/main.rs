//! `mir-stackv4`: composes the stackv4 application with the Unix console and the stack the
//! keys choose.

use clap::Parser;
use mir_stackv4::keys::{Keys, Net};
use mir_stackv4::palette::Palette;
use mir_stackv4::unikernel::Main;
use mirage_console::UnixConsole;
use mirage_net::{Addressing, DirectStack, Recorded, SocketStack, StackConfig};
use mirage_types::{Console, Either, StackV4};
use mirage_unix::Tap;
use mirage_xen::front::Netfront;
use mirage_xen::platform::linux::GuestXen;
use std::process::ExitCode;
use std::time::Duration;

/// How long `--dhcp true` waits for a lease.
const DHCP_TIMEOUT: Duration = Duration::from_secs(10);

fn main() -> ExitCode {
    let keys = Keys::parse();
    mirage_unix::run(async {
        let console = UnixConsole::new();
        match keys.stack() {
            Net::Socket => {
                let stack = SocketStack::with_config(
                    StackConfig::default().interfaces(keys.interfaces.clone()),
                );
                serve(console, stack, &keys).await
            }
            Net::Direct => match direct(&console, &keys).await {
                Ok(stack) => serve(console, stack, &keys).await,
                Err(message) => {
                    eprintln!("mir-stackv4: {message}");
                    ExitCode::FAILURE
                }
            },
        }
    })
}

/// A Xen domain's interface through our own frontend.
type XenVif = Netfront<GuestXen>;

/// The tap device or the Xen interface, recorded to `--pcap` if given.
type Link = Either<Either<Tap, XenVif>, Recorded<Either<Tap, XenVif>>>;

/// The direct stack on the tap device `--network` (or the Xen interface `--xen-vif`),
/// configured statically or by DHCP.
async fn direct(console: &UnixConsole, keys: &Keys) -> Result<DirectStack<Link>, String> {
    let device = match keys.xen_vif {
        Some(vif) => {
            let (xen, domid) = GuestXen::this_domain().await.map_err(|e| e.to_string())?;
            let netfront = Netfront::connect(xen, domid, vif)
                .await
                .map_err(|e| format!("vif {vif}: {e}"))?;
            Either::Right(netfront)
        }
        None => Either::Left(
            if keys.create_tap {
                Tap::create(&keys.network)
            } else {
                Tap::open(&keys.network)
            }
            .map_err(|e| e.to_string())?,
        ),
    };
    let tap = match &keys.pcap {
        None => Either::Left(device),
        Some(path) => Either::Right(
            Recorded::new(device, path).map_err(|e| format!("{}: {e}", path.display()))?,
        ),
    };
    let addressing = if keys.dhcp {
        Addressing::Dhcp {
            timeout: DHCP_TIMEOUT,
        }
    } else {
        Addressing::Static(keys.ipv4_config())
    };
    let stack = DirectStack::connect(tap, addressing)
        .await
        .map_err(|e| e.to_string())?;
    if let (true, Some(config)) = (keys.dhcp, stack.ipv4_config()) {
        let gateways: Vec<String> = config.gateways.iter().map(ToString::to_string).collect();
        let line = format!(
            "DHCP offer received and bound to {} nm {} gw [{}]",
            config.address,
            config.netmask,
            gateways.join(", ")
        );
        console.log_s(&line).await.map_err(|e| e.to_string())?;
    }
    Ok(stack)
}

async fn serve<S: StackV4>(console: UnixConsole, stack: S, keys: &Keys) -> ExitCode {
    let palette = Palette::choose(keys.color);
    let main = Main::new(console, stack, palette, keys.udp_port, keys.tcp_port);
    match main.start().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("mir-stackv4: {error}");
            ExitCode::FAILURE
        }
    }
}
