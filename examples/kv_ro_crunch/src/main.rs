//! `mir-kv_ro_crunch`: two crunch stores of `t/` compared every second.

use clap::Parser;
use mir_kv_ro_crunch::{Static1, unikernel::Main};
use mirage_console::UnixConsole;
use mirage_kv::Crunch;
use mirage_unix::UnixTime;
use std::process::ExitCode;

/// Reads key `a` from two compiled-in stores every second and prints `YES!` when they agree.
#[derive(Parser)]
#[command(name = "mir-kv_ro_crunch", version)]
struct Keys {
    /// Stop after this many rounds (default: run forever).
    #[arg(long, value_parser = mir_kv_ro_crunch::keys::rounds)]
    count: Option<u64>,
}

fn main() -> ExitCode {
    let keys = Keys::parse();
    let main = Main::new(
        UnixConsole::new(),
        UnixTime,
        Crunch::<Static1>::new(),
        Crunch::<Static1>::new(),
    );
    match mirage_unix::run(main.start(keys.count)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("mir-kv_ro_crunch: {error}");
            ExitCode::FAILURE
        }
    }
}
