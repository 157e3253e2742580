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
    mirage_types::apply_boot_keys(command_line, "--count", |key, value| match key {
        "count" => Some(keys::rounds(value).map(|n| count = Some(n))),
        _ => None,
    })?;
    Ok(count)
}

mirage_xen_pv::main!(run);
