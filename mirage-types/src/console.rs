//! V1 `CONSOLE`: a text console.

use crate::{Device, Flow};
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
    /// The underlying output or input failed.
    #[error("console I/O failed: {0}")]
    Io(String),
}

/// V1 `CONSOLE`: a [`Device`] that is also a [`Flow`] of bytes, plus line logging.
#[async_trait(?Send)]
pub trait Console: Device + Flow<Error = ConsoleError> {
    /// V1 `log`: writes `line` and a line ending without waiting, on a best-effort basis (it
    /// never blocks the caller; output may be lost if the process ends first).
    fn log(&self, line: &str);

    /// V1 `log_s`: writes `line` and a line ending completely, resolving once written.
    async fn log_s(&self, line: &str) -> Result<(), ConsoleError>;
}
