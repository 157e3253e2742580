//! `mir-kv_ro` as a Xen PV unikernel: the tutorial's kv_ro, composed by hand with the
//! domain's console, its clock and the store `--kv-ro` chooses, passed twice: `crunch`
//! (`t/` compiled in) or `fat` (the FAT volume on the domain's first disk, `xvda` in the
//! `.xl`, through our Blkfront). Keys on the command line (`extra =`): `--kv-ro crunch|fat`
//! and `--count N` (the Unix `main.rs` composes the same `Main` with a terminal and a
//! directory, a crunch store or an image file).

#![no_std]
#![no_main]

extern crate alloc;

use alloc::format;
use alloc::string::{String, ToString};
use mir_kv_ro_crunch::unikernel::Main;
use mir_kv_ro_crunch::{T, keys};
use mirage_kv::{FatRoKv, StaticKv};
use mirage_types::Either;
use mirage_xen_pv::{Xen, block_on};

/// The stores a unikernel has (Unix's `direct`, a host directory, it has not).
enum Kind {
    Crunch,
    Fat,
}

struct Keys {
    kind: Kind,
    count: Option<u64>,
}

fn parse(command_line: &str) -> Result<Keys, String> {
    let mut keys = Keys {
        kind: Kind::Crunch,
        count: None,
    };
    mirage_types::apply_boot_keys(command_line, "--kv-ro, --count", |key, value| {
        Some(match (key, value) {
            ("kv-ro", "crunch" | "fat") => {
                keys.kind = if value == "fat" {
                    Kind::Fat
                } else {
                    Kind::Crunch
                };
                Ok(())
            }
            ("kv-ro", "direct") => Err("a unikernel has no host directory".into()),
            ("kv-ro", _) => Err("it is crunch or fat".into()),
            ("count", _) => keys::rounds(value).map(|n| keys.count = Some(n)),
            _ => return None,
        })
    })?;
    Ok(keys)
}

fn run(xen: Xen) -> Result<(), String> {
    let keys = parse(xen.command_line())?;
    block_on(async {
        let store = match keys.kind {
            Kind::Crunch => Either::Left(StaticKv::new(T)),
            Kind::Fat => {
                let disk = xen.disk(0).await?;
                let fat = FatRoKv::connect(disk)
                    .await
                    .map_err(|error| format!("xvda: {error}"))?;
                Either::Right(fat)
            }
        };
        let main = Main::new(xen.console(), xen.time(), &store, &store);
        main.start(keys.count)
            .await
            .map_err(|error| error.to_string())
    })
}

mirage_xen_pv::main!(run);
