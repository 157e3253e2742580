//! V1 `CHANNEL`: buffered reading and writing over a [`Flow`].

#[allow(unused_imports)]
use crate::alloc_prelude::*;

use crate::{ErrorKind, Flow, Read};
use async_trait::async_trait;
use bytes::Bytes;
use core::fmt;

/// The error of a channel whose flow fails with `E`: the flow's error, or a bound the peer
/// went past.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChannelError<E> {
    /// The flow underneath failed.
    Flow(E),
    /// A line (or a delimited record) grew past the channel's limit without its delimiter:
    /// the peer sent more than the application accepts. What was read of it is dropped.
    LineTooLong {
        /// The limit, in bytes.
        limit: usize,
    },
}

impl<E: crate::Error> ChannelError<E> {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            ChannelError::Flow(error) => error.kind(),
            ChannelError::LineTooLong { .. } => ErrorKind::LimitExceeded,
        }
    }
}

impl<E> From<E> for ChannelError<E> {
    fn from(error: E) -> Self {
        ChannelError::Flow(error)
    }
}

impl<E: fmt::Display> fmt::Display for ChannelError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChannelError::Flow(error) => write!(f, "{error}"),
            ChannelError::LineTooLong { limit } => {
                write!(
                    f,
                    "a line is longer than the channel's limit of {limit} bytes"
                )
            }
        }
    }
}

impl<E: core::error::Error + 'static> core::error::Error for ChannelError<E> {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            ChannelError::Flow(error) => Some(error),
            ChannelError::LineTooLong { .. } => None,
        }
    }
}

impl<E: crate::Error> crate::Error for ChannelError<E> {
    fn kind(&self) -> ErrorKind {
        ChannelError::kind(self)
    }
}

#[cfg(feature = "std")]
impl<E: crate::Error> From<ChannelError<E>> for std::io::Error {
    fn from(error: ChannelError<E>) -> Self {
        std::io::Error::new(
            error.kind().to_io(),
            alloc::string::ToString::to_string(&error),
        )
    }
}

/// The error type of channel `C`'s methods.
pub type ChannelResult<C, T> = Result<T, ChannelError<<<C as Channel>::Flow as Flow>::Error>>;

/// V1 `CHANNEL`: a buffered byte stream over a flow.
///
/// Reads take from an internal buffer refilled from the flow; writes append to an output
/// buffer sent by [`Channel::flush`]. The end of the flow is a value (`None`, or
/// [`Read::Eof`]), never an error.
#[async_trait(?Send)]
pub trait Channel {
    /// The flow underneath.
    type Flow: Flow;

    /// V1 `read_char`: the next byte, or `None` at the end of the flow.
    async fn read_char(&self) -> ChannelResult<Self, Option<u8>>;

    /// V1 `read_until`: bytes up to `delimiter`, and whether it was found (then it is consumed
    /// but not returned). Not found means the flow ended first, or this is a partial result
    /// at the edge of the buffer: call again for more.
    async fn read_until(&self, delimiter: u8) -> ChannelResult<Self, (bool, Bytes)>;

    /// V1 `read_some ?len`: whatever is buffered (or the next read from the flow), at most
    /// `max` bytes if given.
    async fn read_some(&self, max: Option<usize>) -> ChannelResult<Self, Read>;

    /// V1 `read_line`: the next line without its `\n` (or `\r\n`); `None` at the end of the
    /// flow. A last line without a newline is returned as a line. A line longer than the
    /// channel's limit fails with [`ChannelError::LineTooLong`] (so a peer that never sends
    /// a newline cannot fill memory).
    ///
    /// Not cancel-safe: dropping the future mid-line loses what was read of the line.
    async fn read_line(&self) -> ChannelResult<Self, Option<Bytes>>;

    /// V1 `write_char`: buffers one byte.
    fn write_char(&self, byte: u8);

    /// V1 `write_string`: buffers `text`.
    fn write_string(&self, text: &str);

    /// V1 `write_buffer`: buffers `bytes`.
    fn write_buffer(&self, bytes: &[u8]);

    /// V1 `write_line`: buffers `line` and `\n`. Takes bytes, as [`Channel::read_line`]
    /// returns them (a `&str` line is `text.as_bytes()`).
    fn write_line(&self, line: &[u8]);

    /// V1 `flush`: sends everything buffered.
    async fn flush(&self) -> ChannelResult<Self, ()>;

    /// V1 `close`: flushes, then closes the flow.
    async fn close(&self) -> ChannelResult<Self, ()>;
}
