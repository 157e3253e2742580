//! A test kernel that sleeps: says `idle start`, sleeps the seconds its command line gives
//! (`extra = "20"`, 20 when absent), says `idle end` and powers off. Its CPU time over the
//! sleep shows whether an idle guest blocks in Xen.

#![no_std]
#![no_main]

extern crate alloc;

use core::time::Duration;
use mirage_types::{Console, Time};
use mirage_xen_pv::{Xen, block_on};

fn run(xen: Xen) -> Result<(), mirage_types::ConsoleError> {
    let seconds = xen.command_line().trim().parse().unwrap_or(20);
    block_on(async {
        let console = xen.console();
        console.log_s("idle start").await?;
        xen.time().sleep(Duration::from_secs(seconds)).await;
        console.log_s("idle end").await
    })
}

mirage_xen_pv::main!(run);
