//! `mir-console`: composes the hello-world application with the Unix console and clock.

use mir_console::unikernel::Main;
use mirage_console::UnixConsole;
use mirage_unix::{UnixTime, run};
use std::process::ExitCode;

fn main() -> ExitCode {
    match run(Main::new(UnixConsole::new(), UnixTime).start()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("mir-console: {error}");
            ExitCode::FAILURE
        }
    }
}
