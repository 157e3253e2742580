//! The application, generic over its console, clock and two stores (the tutorial's
//! `unikernel.ml`, shared by `kv_ro_crunch` and `kv_ro`).

use core::time::Duration;
use mirage_types::{Console, ConsoleError, KvRo, Time};

/// What one round printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Both stores hold the same `a`.
    Yes,
    /// They differ.
    No,
    /// A read failed.
    NoNo,
}

impl Verdict {
    /// The line the tutorial prints.
    pub fn line(self) -> &'static str {
        match self {
            Verdict::Yes => "YES!",
            Verdict::No => "NO!",
            Verdict::NoNo => "NO! NO!",
        }
    }
}

/// Every second, reads key `a` (offset 0, length 4096) from both stores and prints `YES!`
/// when they agree, `NO!` when not, `NO! NO!` when a read fails.
pub struct Main<C, T, K1, K2> {
    console: C,
    time: T,
    first: K1,
    second: K2,
}

impl<C: Console, T: Time, K1: KvRo, K2: KvRo> Main<C, T, K1, K2> {
    /// Applies the functor to its devices.
    pub fn new(console: C, time: T, first: K1, second: K2) -> Self {
        Main {
            console,
            time,
            first,
            second,
        }
    }

    /// One comparison.
    pub async fn round(&self) -> Verdict {
        match (
            self.first.read("a", 0, 4096).await,
            self.second.read("a", 0, 4096).await,
        ) {
            (Ok(a), Ok(b)) if a == b => Verdict::Yes,
            (Ok(_), Ok(_)) => Verdict::No,
            _ => Verdict::NoNo,
        }
    }

    /// Runs `rounds` rounds a second apart (forever with `None`).
    pub async fn start(&self, rounds: Option<u64>) -> Result<(), ConsoleError> {
        let mut done = 0;
        while rounds.is_none_or(|n| done < n) {
            self.console.log_s(self.round().await.line()).await?;
            done += 1;
            if rounds.is_none_or(|n| done < n) {
                self.time.sleep(Duration::from_secs(1)).await;
            }
        }
        Ok(())
    }
}
