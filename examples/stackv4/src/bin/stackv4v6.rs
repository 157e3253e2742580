//! `mir-stackv4v6`: the stackv4 application on the dual stack, composed with the Unix
//! console and the stack the keys choose (IPv6 beside IPv4 unless `--ipv4-only true`).

use clap::Parser;
use mir_stackv4::dual::DualMain;
use mir_stackv4::keys::{Keys, Net};
use mir_stackv4::palette::Palette;
use mir_stackv4::stack::{direct, socket};
use mirage_console::UnixConsole;
use mirage_types::StackV4V6;
use std::process::ExitCode;

fn main() -> ExitCode {
    let keys = Keys::parse_from(std::env::args_os());
    mirage_unix::run(async {
        let console = UnixConsole::new();
        match keys.stack.stack() {
            Net::Socket => serve(console, socket(&keys.stack), &keys).await,
            Net::Direct => match direct(&console, &keys.stack).await {
                Ok(stack) => serve(console, stack, &keys).await,
                Err(message) => {
                    eprintln!("mir-stackv4v6: {message}");
                    ExitCode::FAILURE
                }
            },
        }
    })
}

async fn serve<S: StackV4V6>(console: UnixConsole, stack: S, keys: &Keys) -> ExitCode {
    let palette = Palette::choose(keys.color);
    let main = DualMain::new(console, stack, palette, keys.udp_port, keys.tcp_port);
    match main.start().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("mir-stackv4v6: {error}");
            ExitCode::FAILURE
        }
    }
}
