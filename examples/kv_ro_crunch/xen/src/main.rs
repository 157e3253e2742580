//! `mir-kv_ro_crunch` as a Xen PV unikernel: the tutorial's kv_ro_crunch, composed by hand
//! with the domain's console, its clock and two stores of `t/` compiled in (the Unix
//! `main.rs` composes the same `Main` with a terminal and rust-embed's `Crunch`). It prints
//! `YES!` every second; `--count N` on its command line (`extra =`) stops after N rounds.

#![no_std]
#![no_main]

extern crate alloc;

use alloc::format;
use alloc::string::String;
use mir_kv_ro_crunch::unikernel::Main;
use mir_kv_ro_crunch::{T, keys};
use mirage_kv::StaticKv;
use mirage_xen_pv::{Xen, block_on};

fn run(xen: Xen) -> Result<(), String> {
    let count = rounds(xen.command_line())?;
    let main = Main::new(
        xen.console(),
        xen.time(),
        StaticKv::new(T),
        StaticKv::new(T),
    );
    block_on(main.start(count)).map_err(|error| format!("console: {error}"))
}

/// `--count N` (or `--count=N`), the Unix program's one key; none runs forever.
fn rounds(command_line: &str) -> Result<Option<u64>, String> {
    let mut count = None;
    for (key, value) in mirage_types::boot_keys(command_line)? {
        match key {
            "count" => count = Some(rounds_value(value)?),
            _ => return Err(format!("--{key}: no such key (the key: --count)")),
        }
    }
    Ok(count)
}

fn rounds_value(value: &str) -> Result<u64, String> {
    keys::rounds(value).map_err(|why| format!("invalid value '{value}' for '--count': {why}"))
}

mirage_xen_pv::main!(run);
