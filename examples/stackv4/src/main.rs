//! `mir-stackv4`: composes the stackv4 application with the Unix console and the stack the
//! keys choose.

use clap::Parser;
use mir_stackv4::keys::{Keys, Net};
use mir_stackv4::palette::Palette;
use mir_stackv4::unikernel::Main;
use mirage_console::UnixConsole;
use mirage_net::{SocketStack, StackConfig};
use std::process::ExitCode;

fn main() -> ExitCode {
    let keys = Keys::parse();
    let palette = Palette::choose(keys.color);
    match keys.stack() {
        Net::Socket => {
            let stack = SocketStack::with_config(StackConfig {
                interfaces: keys.interfaces.clone(),
                ..Default::default()
            });
            let main = Main::new(
                UnixConsole::new(),
                stack,
                palette,
                keys.udp_port,
                keys.tcp_port,
            );
            match mirage_unix::run(main.start()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => {
                    eprintln!("mir-stackv4: {error}");
                    ExitCode::FAILURE
                }
            }
        }
        Net::Direct => {
            eprintln!(
                "mir-stackv4: the direct stack (smoltcp over the tap device {}) is not available \
                 in this version; run with --net socket",
                keys.network
            );
            ExitCode::from(2)
        }
    }
}
