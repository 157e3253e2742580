//! `mir-console` as a QEMU/KVM unikernel: the tutorial's hello world, composed by hand with
//! the serial console and the TSC's clock (the Unix `main.rs` and the Xen kernel compose
//! the same `Main` with their own).

#![no_std]
#![no_main]

extern crate alloc;

use mir_console::unikernel::Main;
use mirage_types::ConsoleError;
use mirage_virtio::{Virtio, block_on};

fn run(virtio: Virtio) -> Result<(), ConsoleError> {
    block_on(Main::new(virtio.console(), virtio.time()).start())
}

mirage_virtio::main!(run);
