//! A conformance suite any [`KvRw`] store can be run against (feature `conformance`), as
//! `mirage-block` has for `Block`.
//!
//! * [`semantics_checks`]: each operation's documented behaviour and errors, Mirage 4's
//!   cases among them (not found, value or dictionary expected, already present, rename into
//!   itself, keys that name nothing).
//! * [`model_checks`]: a long seeded random sequence of writes, renames, removals and reads
//!   compared with an in-memory model after every step; the same seed gives the same
//!   sequence.
//! * [`concurrent_checks`]: readers running while a writer replaces values of different
//!   sizes only ever see one whole value.
//!
//! Keys used are short lower-case ASCII names, valid in every store (FAT included). Each
//! check works beneath a prefix of its own and removes it afterwards, so a store that holds
//! other data is left as it was.
//!
//! ```
//! use mirage_kv::{MemKv, conformance};
//! let store = MemKv::new();
//! mirage_unix::run(conformance::run_all(&store, 7)).unwrap();
//! ```
//!
//! Crash consistency needs a device that can be stopped, so it is checked per store: see
//! `tests/fat_kv_crash.rs` for `FatKv`.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

mod concurrent;
mod model;
mod semantics;

pub use concurrent::concurrent_checks;
pub use model::model_checks;
pub use semantics::semantics_checks;

use mirage_types::{KvError, KvRw};
use std::fmt;

/// A conformance check that failed: which one, and what was seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The check's name.
    pub check: String,
    /// What went wrong.
    pub detail: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.check, self.detail)
    }
}

impl std::error::Error for Failure {}

/// Every check, in order, the model with `seed`.
pub async fn run_all<K: KvRw>(store: &K, seed: u64) -> Result<(), Failure> {
    semantics_checks(store).await?;
    model_checks(store, seed, 400).await?;
    concurrent_checks(store).await
}

/// A failure of `check` unless `result` is `Ok`.
pub(crate) fn ok<T>(check: &str, result: Result<T, KvError>) -> Result<T, Failure> {
    result.map_err(|error| Failure {
        check: check.to_owned(),
        detail: format!("unexpected error: {error}"),
    })
}

/// A failure of `check` unless `seen == expected`.
pub(crate) fn same<T: PartialEq + fmt::Debug>(
    check: &str,
    seen: T,
    expected: T,
) -> Result<(), Failure> {
    if seen == expected {
        Ok(())
    } else {
        Err(Failure {
            check: check.to_owned(),
            detail: format!("got {seen:?}, expected {expected:?}"),
        })
    }
}

/// A small deterministic generator (SplitMix64): the same seed, the same sequence.
pub(crate) struct Seeded(u64);

impl Seeded {
    pub(crate) fn new(seed: u64) -> Self {
        Seeded(seed)
    }

    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..bound` (`bound > 0`).
    pub(crate) fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }
}
