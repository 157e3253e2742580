//! `mir-console` as a Xen PV unikernel: the tutorial's hello world, composed by hand with
//! the domain's console and Xen's clock (the Unix `main.rs` composes the same `Main` with
//! a terminal and the system clock).

#![no_std]
#![no_main]

extern crate alloc;

use mir_console::unikernel::Main;
use mirage_types::ConsoleError;
use mirage_xen_pv::{Xen, block_on};

fn run(xen: Xen) -> Result<(), ConsoleError> {
    block_on(Main::new(xen.console(), xen.time()).start())
}

mirage_xen_pv::main!(run);
