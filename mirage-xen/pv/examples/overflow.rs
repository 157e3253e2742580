//! A test kernel whose stack overflows: the guard page below the stack must make the domain
//! crash (not run on with `.bss` overwritten, not hang).

#![no_std]
#![no_main]

extern crate alloc;

use mirage_types::Console;
use mirage_xen_pv::{Xen, block_on};

/// Recurses with a page of stack per call until the stack runs out.
#[allow(unconditional_recursion)]
fn deeper(depth: u64) -> u64 {
    let frame = core::hint::black_box([depth as u8; 4096]);
    core::hint::black_box(deeper(depth + 1)) + u64::from(frame[depth as usize % 4096])
}

fn run(xen: Xen) -> Result<(), mirage_types::ConsoleError> {
    block_on(xen.console().log_s("about to overflow the stack"))?;
    let depth = deeper(0);
    block_on(
        xen.console()
            .log_s(&alloc::format!("still running at {depth}")),
    )
}

mirage_xen_pv::main!(run);
