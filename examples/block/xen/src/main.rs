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
use mirage_xen::front::Blkfront;
use mirage_xen::xl::vdev_number;
use mirage_xen_pv::{Xen, block_on};

fn run(xen: Xen) -> Result<(), String> {
    block_on(async {
        let platform = xen.platform();
        let domid = platform
            .domid()
            .await
            .map_err(|error| format!("this domain's id: {error}"))?;
        let disk = Blkfront::connect(platform, domid, vdev_number(0))
            .await
            .map_err(|error| format!("xvda: {error}"))?;
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
