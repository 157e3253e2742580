//! `mir-block_test` as a QEMU/KVM unikernel: the tutorial's block_test, composed by hand
//! with the serial console and the first virtio-blk disk (the Unix `main.rs` composes the
//! same `Main` with a terminal and an image file, the Xen kernel with Blkfront).

#![no_std]
#![no_main]

extern crate alloc;

use alloc::format;
use alloc::string::String;
use mir_block_test::unikernel::Main;
use mirage_types::Device;
use mirage_virtio::{Virtio, block_on};

fn run(virtio: Virtio) -> Result<(), String> {
    let disk = virtio.disk(0).map_err(|error| format!("{error}"))?;
    block_on(async {
        let outcome = Main::new(virtio.console(), &disk).start().await;
        disk.disconnect().await;
        match outcome {
            Ok(totals) if totals.failed == 0 => Ok(()),
            Ok(totals) => Err(format!("{} of block_test's checks failed", totals.failed)),
            Err(error) => Err(format!("{error}")),
        }
    })
}

mirage_virtio::main!(run);
