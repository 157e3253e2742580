//! A test kernel for the blkfront benchmark: reads its first disk (`xvda`) from start to
//! end through our Blkfront, 1 MiB at a time, as many times as its command line says
//! (`extra = "ROUNDS"`, 1 when absent), and says for each `read: BYTES bytes in MS ms,
//! ALLOCATIONS allocations`, then powers off.

#![no_std]
#![no_main]

extern crate alloc;

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use mirage_types::{Block, Console, MonotonicClock};
use mirage_xen_pv::{Xen, block_on, memory};

fn run(xen: Xen) -> Result<(), String> {
    let rounds: u32 = xen.command_line().trim().parse().unwrap_or(1);
    let clock = xen.monotonic_clock();
    let console = xen.console();
    block_on(async {
        let disk = xen.disk(0).await?;
        let info = disk.get_info().await;
        let mut buffer = vec![0u8; 1 << 20];
        let per_buffer = buffer.len() as u64 / u64::from(info.sector_size);
        for _ in 0..rounds {
            let (start, allocations) = (clock.elapsed_ns(), memory::allocations());
            let mut sector = 0;
            while sector < info.size_sectors {
                let count = per_buffer.min(info.size_sectors - sector);
                let bytes = (count * u64::from(info.sector_size)) as usize;
                disk.read_at(sector, &mut buffer[..bytes])
                    .await
                    .map_err(|e| format!("reading at sector {sector}: {e}"))?;
                sector += count;
            }
            let ms = (clock.elapsed_ns() - start) / 1_000_000;
            let allocations = memory::allocations() - allocations;
            let line = format!(
                "read: {} bytes in {ms} ms, {allocations} allocations",
                info.size_bytes()
            );
            console.log_s(&line).await.map_err(|e| e.to_string())?;
        }
        Ok(())
    })
}

mirage_xen_pv::main!(run);
