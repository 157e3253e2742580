//! `mir-kv_ro` as a QEMU/KVM unikernel: the tutorial's kv_ro, composed by hand with the
//! serial console, the TSC's clock and the store `--kv-ro` chooses, passed twice: `crunch`
//! (`t/` compiled in) or `fat` (the FAT volume on the first virtio-blk disk). Keys on the
//! command line (QEMU's `-append`): `--kv-ro crunch|fat` and `--count N` (the Xen kernel
//! composes the same `Main` with Blkfront).

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
use mirage_virtio::{Virtio, block_on};

fn run(virtio: Virtio) -> Result<(), String> {
    let keys = UnikernelKeys::parse(virtio.command_line())?;
    block_on(async {
        let store = match keys.store {
            UnikernelStore::Crunch => Either::Left(StaticKv::new(T)),
            UnikernelStore::Fat => {
                let disk = virtio.disk(0).map_err(|error| format!("{error}"))?;
                let fat = FatRoKv::connect(disk)
                    .await
                    .map_err(|error| format!("vda: {error}"))?;
                Either::Right(fat)
            }
        };
        let main = Main::new(virtio.console(), virtio.time(), &store, &store);
        main.start(keys.count)
            .await
            .map_err(|error| error.to_string())
    })
}

mirage_virtio::main!(run);
