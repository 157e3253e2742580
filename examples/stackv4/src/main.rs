//! `mir-stackv4`: composes the stackv4 application with the Unix console and the stack the
//! keys choose.

use clap::Parser;
use mir_stackv4::keys::{Keys, Net};
use mir_stackv4::palette::Palette;
use mir_stackv4::stack::{direct, socket};
use mir_stackv4::unikernel::Main;
use mirage_console::UnixConsole;
use mirage_types::StackV4;
use std::process::ExitCode;

fn main() -> ExitCode {
    let keys = Keys::parse();
    mirage_unix::run(async {
        let console = UnixConsole::new();
        match keys.stack.stack() {
            Net::Socket => {
                let stack = socket(&keys.stack);
                serve(console, stack, &keys).await
            }
            Net::Direct => match direct(&console, &keys.stack).await {
                Ok(stack) => serve(console, stack, &keys).await,
                Err(message) => {
                    eprintln!("mir-stackv4: {message}");
                    ExitCode::FAILURE
                }
            },
        }
    })
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
