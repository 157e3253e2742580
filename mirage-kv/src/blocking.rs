//! Host file work off the runtime's thread: tokio's blocking pool.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

use std::io;

/// Runs `work` on the blocking pool; a task that panicked is an error.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> io::Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|e| Err(io::Error::other(e.to_string())))
}
