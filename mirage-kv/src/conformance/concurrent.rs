//! Readers during writes see whole values.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

use super::{Failure, ok};
use mirage_types::KvRw;
use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

const ROOT: &str = "conformance-concurrent";
/// Replacements the writer makes.
const WRITES: usize = 24;

/// Lets the other futures of a `join` run once.
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// Two readers run while a writer replaces a value, again and again, with values of other
/// sizes and contents: every read finds one whole value (the store's own waits interleave
/// them; over a device that answers at once, they interleave between operations).
pub async fn concurrent_checks<K: KvRw>(store: &K) -> Result<(), Failure> {
    let key = format!("{ROOT}/value");
    let values: [Vec<u8>; 2] = [vec![b'a'; 5000], vec![b'b'; 9000]];
    ok("first value", store.set(&key, &values[0]).await)?;
    let done = Cell::new(false);
    let seen_each = [Cell::new(false), Cell::new(false)];
    let writer = async {
        for round in 0..WRITES {
            let result = store.set(&key, &values[(round + 1) % 2]).await;
            YieldOnce(false).await;
            if let Err(error) = result {
                done.set(true);
                return Err(Failure {
                    check: "concurrent writer".into(),
                    detail: error.to_string(),
                });
            }
        }
        done.set(true);
        Ok(())
    };
    let reader = || async {
        let mut reads = 0usize;
        while !done.get() {
            let seen = ok("concurrent reader", store.get(&key).await)?;
            if let Some(which) = values.iter().position(|value| seen == value[..]) {
                seen_each[which].set(true);
            } else {
                return Err(Failure {
                    check: "concurrent reader".into(),
                    detail: format!(
                        "read {} bytes that are neither value (first byte {:?})",
                        seen.len(),
                        seen.first()
                    ),
                });
            }
            reads += 1;
            YieldOnce(false).await;
        }
        Ok(reads)
    };
    let (written, first, second) = futures::join!(writer, reader(), reader());
    written?;
    first?;
    second?;
    if !(seen_each[0].get() && seen_each[1].get()) {
        return Err(Failure {
            check: "concurrent readers".into(),
            detail: "the readers never ran between the writes (both values should be seen)".into(),
        });
    }
    ok("clean up", store.remove(ROOT).await)?;
    Ok(())
}
