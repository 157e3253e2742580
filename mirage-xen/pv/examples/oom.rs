//! A test kernel that allocates until the heap is exhausted: the allocation failure must
//! reach the console as a panic and crash the domain, not hang or corrupt memory.

#![no_std]
#![no_main]

extern crate alloc;

use alloc::vec::Vec;
use mirage_types::Console;
use mirage_xen_pv::{Xen, block_on};

fn run(xen: Xen) -> Result<(), mirage_types::ConsoleError> {
    block_on(xen.console().log_s("about to exhaust the heap"))?;
    let mut hoard: Vec<Vec<u8>> = Vec::new();
    loop {
        hoard.push(core::hint::black_box(alloc::vec![1u8; 1 << 20]));
        if hoard.len() > 1 << 16 {
            // Never reached: the heap is 8 MiB.
            return block_on(xen.console().log_s("the heap never ran out"));
        }
    }
}

mirage_xen_pv::main!(run);
