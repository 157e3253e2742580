//! A test kernel: lines on the console a second apart with their times, the command line,
//! then an exit status, a panic or a fault, as the command line asks (`exit=N`, `panic`,
//! `fault`).

#![no_std]
#![no_main]

extern crate alloc;

use alloc::format;
use core::time::Duration;
use mirage_types::{Console, Time};
use mirage_virtio::{Virtio, block_on};

fn run(virtio: Virtio) -> Result<(), mirage_types::ConsoleError> {
    let console = virtio.console();
    let args = virtio.command_line();
    block_on(async {
        console
            .log_s(&format!(
                "boot {} us; tsc {} Hz; args {args:?}",
                mirage_virtio::boot_time().as_micros(),
                mirage_virtio::clock::tsc_hz()
            ))
            .await?;
        for word in ["hello", "world"] {
            console.log_s(word).await?;
            virtio.time().sleep(Duration::from_millis(200)).await;
        }
        Ok::<_, mirage_types::ConsoleError>(())
    })?;
    for arg in args.split_whitespace() {
        if arg == "panic" {
            panic!("the test kernel panics on purpose");
        }
        if arg == "fault" {
            // SAFETY: none: a write past the mapped 4 GiB, to see the fault reported.
            unsafe { core::ptr::write_volatile(0x1_0000_0000 as *mut u8, 1) };
        }
        if let Some(status) = arg.strip_prefix("exit=") {
            mirage_virtio::exit(status.parse().unwrap_or(1));
        }
    }
    Ok(())
}

mirage_virtio::main!(run);
