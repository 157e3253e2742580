//! V1 `CONSOLE`: a text console.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

#[cfg(feature = "std")]
use crate::IoError;
use crate::{Device, ErrorKind, Flow};
use async_trait::async_trait;
use thiserror::Error;

/// Errors of a console (V1: `` [ `Invalid_console of string ] ``).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ConsoleError {
    /// V1's `Invalid_console`: the named console cannot be used.
    #[error("invalid console: {0}")]
    InvalidConsole(String),
    /// The console was closed (V1 answered `` `Eof `` to a write after `close`).
    #[error("console is closed")]
    Closed,
    /// The console was disconnected.
    #[error("console is disconnected")]
    Disconnected,
    /// The underlying output or input failed (the error is kept as `source()`).
    #[cfg(feature = "std")]
    #[error("console I/O failed: {0}")]
    Io(#[source] IoError),
}

impl ConsoleError {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            ConsoleError::InvalidConsole(_) => ErrorKind::NotFound,
            ConsoleError::Closed => ErrorKind::Closed,
            ConsoleError::Disconnected => ErrorKind::Disconnected,
            #[cfg(feature = "std")]
            ConsoleError::Io(error) => error.kind(),
        }
    }
}

/// V1 `CONSOLE`: a [`Device`] that is also a [`Flow`] of bytes, plus line logging.
#[async_trait(?Send)]
pub trait Console: Device + Flow<Error = ConsoleError> {
    /// V1 `log`: writes `line` and a line ending without waiting, on a best-effort basis (it
    /// never blocks the caller; output may be lost if the process ends first).
    ///
    /// Where it goes is the backend's: the Unix console queues it for standard error (so
    /// diagnostics never mix with the program's output), an in-memory console records it
    /// beside `log_s` lines, a Xen console writes it to the console ring.
    fn log(&self, line: &str);

    /// V1 `log_s`: writes `line` and a line ending completely, resolving once written. This
    /// is the console's output proper: standard output on Unix, the console ring on Xen.
    async fn log_s(&self, line: &str) -> Result<(), ConsoleError>;
}
