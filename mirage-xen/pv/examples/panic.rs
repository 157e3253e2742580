//! A test kernel that panics after one console line: the message must reach the console and
//! the domain must end crashed, not hang.

#![no_std]
#![no_main]

extern crate alloc;

use mirage_types::Console;
use mirage_xen_pv::{Xen, block_on};

fn run(xen: Xen) -> Result<(), mirage_types::ConsoleError> {
    block_on(async {
        xen.console().log_s("about to panic").await?;
        let answer: Option<u32> = None;
        panic!("the test kernel panics on purpose ({answer:?})");
    })
}

mirage_xen_pv::main!(run);
