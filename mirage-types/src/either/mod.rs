//! `Either<A, B>`: Mirage's `if_impl`, a run-time choice between two backends with static
//! dispatch.
//!
//! `Either` implements every trait of this crate that both `A` and `B` implement, so
//! `main.rs` can pick a backend from a command-line key and hand the result to a generic
//! `Main`.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

mod flows;
mod net;
mod storage;

use crate::{Clock, Device, Random, Time, Tm};
use async_trait::async_trait;
use core::time::Duration;

/// One of two implementations of the same device traits.
///
/// ```
/// use mirage_types::{Block, Either};
///
/// /// `main.rs` picks a backend from a flag; the application sees one `Block`.
/// fn choose<A: Block, B: Block>(use_file: bool, file: A, memory: B) -> impl Block {
///     if use_file { Either::Left(file) } else { Either::Right(memory) }
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Either<A, B> {
    /// The first choice.
    Left(A),
    /// The second choice.
    Right(B),
}

/// Runs the same expression on whichever side is present.
macro_rules! dispatch {
    ($value:expr, $inner:ident => $body:expr) => {
        match $value {
            $crate::Either::Left($inner) => $body,
            $crate::Either::Right($inner) => $body,
        }
    };
}
pub(crate) use dispatch;

impl<A, B> Either<A, B> {
    /// Whether this is the left choice.
    pub fn is_left(&self) -> bool {
        matches!(self, Either::Left(_))
    }

    /// Borrows whichever side is present.
    pub fn as_ref(&self) -> Either<&A, &B> {
        match self {
            Either::Left(a) => Either::Left(a),
            Either::Right(b) => Either::Right(b),
        }
    }
}

#[async_trait(?Send)]
impl<A: Device, B: Device> Device for Either<A, B> {
    async fn disconnect(&self) {
        dispatch!(self, d => d.disconnect().await)
    }
}

#[async_trait(?Send)]
impl<A: Time, B: Time> Time for Either<A, B> {
    async fn sleep(&self, duration: Duration) {
        dispatch!(self, t => t.sleep(duration).await)
    }
}

impl<A: Clock, B: Clock> Clock for Either<A, B> {
    fn time(&self) -> f64 {
        dispatch!(self, c => c.time())
    }

    fn gmtime(&self, seconds: f64) -> Tm {
        dispatch!(self, c => c.gmtime(seconds))
    }
}

impl<A: Random, B: Random> Random for Either<A, B> {
    fn self_init(&self) {
        dispatch!(self, r => r.self_init())
    }

    fn fill_bytes(&self, buf: &mut [u8]) {
        dispatch!(self, r => r.fill_bytes(buf))
    }
}
