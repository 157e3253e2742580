//! The platform of a stack in a Linux process: tokio's timers, `std`'s monotonic clock and
//! the system's random numbers.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

use core::time::Duration;
use mirage_types::{MonotonicClock, Random, Time, async_trait};
use std::sync::OnceLock;
use std::time::Instant;

/// Sleeps on tokio's timer wheel.
pub(super) struct TokioTime;

#[async_trait(?Send)]
impl Time for TokioTime {
    async fn sleep(&self, duration: Duration) {
        tokio::time::sleep(duration).await
    }
}

/// Nanoseconds since the process first read it (`Instant` never goes back).
pub(super) struct ProcessClock;

impl MonotonicClock for ProcessClock {
    fn elapsed_ns(&self) -> u64 {
        static ORIGIN: OnceLock<Instant> = OnceLock::new();
        ORIGIN.get_or_init(Instant::now).elapsed().as_nanos() as u64
    }
}

/// The operating system's random numbers (through `rand`'s thread generator, seeded from
/// them).
pub(super) struct SystemRandom;

impl Random for SystemRandom {
    fn self_init(&self) {}

    fn fill_bytes(&self, buf: &mut [u8]) {
        rand::RngCore::fill_bytes(&mut rand::rng(), buf)
    }
}
