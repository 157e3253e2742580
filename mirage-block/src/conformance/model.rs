//! A seeded random sequence of requests, compared with an in-memory model of the device.

#[allow(unused_imports)]
use crate::prelude::*;

use super::{Failure, fail};
use mirage_types::{Block, BlockError};
use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};

/// The most sectors the model covers; requests stay inside this window.
const WINDOW_SECTORS: u64 = 512;

/// Runs `operations` random requests (reads, writes of several buffers, flushes, and
/// requests past the end that must fail) inside a window of the device, comparing every
/// read with a model. On a read-only device the writes must fail with
/// [`BlockError::IsReadOnly`]. The same `seed` gives the same sequence; a failure names it.
///
/// The window is the device's last sectors, so that requests also reach its end.
pub async fn model_checks<B: Block>(
    device: &B,
    seed: u64,
    operations: usize,
) -> Result<(), Failure> {
    let info = device.get_info().await;
    let sector = info.sector_size as usize;
    let window = info.size_sectors.min(WINDOW_SECTORS);
    if window == 0 {
        return fail("model", "the device has no sectors");
    }
    let base = info.size_sectors - window;
    let mut model = vec![0u8; window as usize * sector];
    if let Err(error) = device.read(base, &mut [&mut model]).await {
        return fail(
            "model",
            format!("reading the initial window failed: {error}"),
        );
    }
    let mut rng = StdRng::seed_from_u64(seed);
    for step in 0..operations {
        let name = || format!("model (seed {seed}, step {step})");
        let buffers = rng.random_range(1..=4usize);
        let lengths: Vec<usize> = (0..buffers)
            .map(|_| rng.random_range(1..=8usize) * sector)
            .collect();
        let sectors = (lengths.iter().sum::<usize>() / sector) as u64;
        let past_end = rng.random_ratio(1, 16);
        let start = if past_end {
            info.size_sectors - rng.random_range(0..sectors.min(window))
        } else if sectors > window {
            continue;
        } else {
            base + rng.random_range(0..=window - sectors)
        };
        let offset = ((start - base) as usize) * sector;
        match rng.random_range(0..10) {
            0..=4 => {
                let data: Vec<Vec<u8>> = lengths
                    .iter()
                    .map(|&len| {
                        let mut bytes = vec![0u8; len];
                        rng.fill_bytes(&mut bytes);
                        bytes
                    })
                    .collect();
                let parts: Vec<&[u8]> = data.iter().map(Vec::as_slice).collect();
                let result = device.write(start, &parts).await;
                match (result, info.read_write, past_end) {
                    (Ok(()), true, false) => {
                        let flat = data.concat();
                        model[offset..offset + flat.len()].copy_from_slice(&flat);
                    }
                    (Err(BlockError::IsReadOnly), false, _) => {}
                    (Err(BlockError::OutOfRange { .. }), true, true) => {}
                    (outcome, _, _) => {
                        return fail(
                            name(),
                            format!("write of {sectors} sectors at {start}: {outcome:?}"),
                        );
                    }
                }
            }
            5..=8 => {
                let mut back: Vec<Vec<u8>> = lengths.iter().map(|&len| vec![0u8; len]).collect();
                let mut views: Vec<&mut [u8]> = back.iter_mut().map(Vec::as_mut_slice).collect();
                let result = device.read(start, &mut views).await;
                match (result, past_end) {
                    (Ok(()), false) => {
                        let flat = back.concat();
                        if flat != model[offset..offset + flat.len()] {
                            return fail(
                                name(),
                                format!(
                                    "read of {sectors} sectors at {start} differs from the model"
                                ),
                            );
                        }
                    }
                    (Err(BlockError::OutOfRange { .. }), true) => {}
                    (outcome, _) => {
                        return fail(
                            name(),
                            format!("read of {sectors} sectors at {start}: {outcome:?}"),
                        );
                    }
                }
            }
            _ => {
                if let Err(error) = device.flush().await {
                    return fail(name(), format!("flush failed: {error}"));
                }
            }
        }
    }
    let mut whole = vec![0u8; model.len()];
    if let Err(error) = device.read(base, &mut [&mut whole]).await {
        return fail("model", format!("final read failed: {error}"));
    }
    if whole != model {
        return fail(
            format!("model (seed {seed})"),
            "final contents differ from the model",
        );
    }
    Ok(())
}
