//! A test kernel that sleeps: says `idle start` and how long it took from its first
//! instruction to `main`, sleeps the seconds its command line gives
//! (`extra = "20"`, 20 when absent), says `idle end after N ms (monotonic)`, the sleep as
//! the monotonic clock measured it, and powers off. Its CPU time over the sleep shows whether
//! an idle guest blocks in Xen.

#![no_std]
#![no_main]

extern crate alloc;

use core::time::Duration;
use mirage_types::{Console, MonotonicClock, Time};
use mirage_xen_pv::{Xen, block_on};

fn run(xen: Xen) -> Result<(), mirage_types::ConsoleError> {
    let seconds = xen.command_line().trim().parse().unwrap_or(20);
    block_on(async {
        let console = xen.console();
        let boot = mirage_xen_pv::boot_time().as_nanos();
        console
            .log_s(&alloc::format!("idle start; main after {boot} ns"))
            .await?;
        let clock = xen.monotonic_clock();
        let before = clock.elapsed_ns();
        xen.time().sleep(Duration::from_secs(seconds)).await;
        let slept = clock.elapsed_ns().saturating_sub(before) / 1_000_000;
        console
            .log_s(&alloc::format!("idle end after {slept} ms (monotonic)"))
            .await
    })
}

mirage_xen_pv::main!(run);
