//! `mir-block_test` as a Xen PV unikernel: the tutorial's block_test, composed by hand with
//! the domain's console and its first disk (`xvda`, from the `.xl`) through our Blkfront
//! (the Unix `main.rs` composes the same `Main` with a terminal and an image file).

#![no_std]
#![no_main]

extern crate alloc;

use alloc::format;
use alloc::string::String;
use mir_block_test::unikernel::Main;
use mirage_types::Device;
use mirage_xen_pv::{Xen, block_on};

fn run(xen: Xen) -> Result<(), String> {
    block_on(async {
        let disk = xen.disk(0).await?;
        let outcome = Main::new(xen.console(), &disk).start().await;
        disk.disconnect().await;
        match outcome {
            Ok(totals) if totals.failed == 0 => Ok(()),
            Ok(totals) => Err(format!("{} of block_test's checks failed", totals.failed)),
            Err(error) => Err(format!("{error}")),
        }
    })
}

mirage_xen_pv::main!(run);
