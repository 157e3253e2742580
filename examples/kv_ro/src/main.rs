//! `mir-kv_ro`: the kv_ro comparison over the store `--kv-ro` chooses, one instance passed
//! twice.

use clap::Parser;
use mir_kv_ro::{KvRoKind, open};
use mir_kv_ro_crunch::unikernel::Main;
use mirage_console::UnixConsole;
use mirage_unix::UnixTime;
use std::path::Path;
use std::process::ExitCode;

/// Reads key `a` twice from one store every second and prints `YES!` when the reads agree.
#[derive(Parser)]
#[command(name = "mir-kv_ro", version)]
struct Keys {
    /// The store: `crunch` (compiled in), `direct` (./t read live) or `fat` (./fat1.img).
    #[arg(long = "kv-ro", value_enum, default_value_t = KvRoKind::Crunch)]
    kv_ro: KvRoKind,
    /// Stop after this many rounds (default: run forever).
    #[arg(long, value_parser = mir_kv_ro_crunch::keys::rounds)]
    count: Option<u64>,
}

fn main() -> ExitCode {
    let keys = Keys::parse();
    mirage_unix::run(async {
        let store = match open(keys.kv_ro, Path::new(".")).await {
            Ok(store) => store,
            Err(error) => {
                eprintln!("mir-kv_ro: {error}");
                return ExitCode::FAILURE;
            }
        };
        let main = Main::new(UnixConsole::new(), UnixTime, &store, &store);
        match main.start(keys.count).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("mir-kv_ro: {error}");
                ExitCode::FAILURE
            }
        }
    })
}
