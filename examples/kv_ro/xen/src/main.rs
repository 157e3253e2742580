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
use mir_kv_ro_crunch::T;
use mir_kv_ro_crunch::keys::{UnikernelKeys, UnikernelStore};
use mir_kv_ro_crunch::unikernel::Main;
use mirage_kv::{FatRoKv, StaticKv};
use mirage_types::Either;
use mirage_xen_pv::{Xen, block_on};

fn run(xen: Xen) -> Result<(), String> {
    let keys = UnikernelKeys::parse(xen.command_line())?;
    block_on(async {
        let store = match keys.store {
            UnikernelStore::Crunch => Either::Left(StaticKv::new(T)),
            UnikernelStore::Fat => {
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
