//! V1 `CHANNEL`: buffered reading and writing over a [`Flow`].

#[allow(unused_imports)]
use crate::prelude::*;

use crate::{Flow, Read};
use async_trait::async_trait;
use bytes::Bytes;

/// The error of a channel over flow `F`.
pub type ChannelError<F> = <F as Flow>::Error;

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
    async fn read_char(&self) -> Result<Option<u8>, ChannelError<Self::Flow>>;

    /// V1 `read_until`: bytes up to `delimiter`, and whether it was found (then it is consumed
    /// but not returned). Not found means the flow ended first, or this is a partial result
    /// at the edge of the buffer: call again for more.
    async fn read_until(&self, delimiter: u8) -> Result<(bool, Bytes), ChannelError<Self::Flow>>;

    /// V1 `read_some ?len`: whatever is buffered (or the next read from the flow), at most
    /// `max` bytes if given.
    async fn read_some(&self, max: Option<usize>) -> Result<Read, ChannelError<Self::Flow>>;

    /// V1 `read_line`: the next line without its `\n` (or `\r\n`); `None` at the end of the
    /// flow. A last line without a newline is returned as a line.
    async fn read_line(&self) -> Result<Option<Bytes>, ChannelError<Self::Flow>>;

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
    async fn flush(&self) -> Result<(), ChannelError<Self::Flow>>;

    /// V1 `close`: flushes, then closes the flow.
    async fn close(&self) -> Result<(), ChannelError<Self::Flow>>;
}
