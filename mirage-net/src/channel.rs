//! V1's `Channel.Make(Flow)`: buffered reading and writing over any flow.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

use bytes::{Bytes, BytesMut};
use core::cell::{Cell, RefCell};
use mirage_types::{Channel, ChannelError, ChannelResult, Flow, Read, async_trait};

/// A buffered channel over flow `F` (V1 `CHANNEL`, generic over the flow).
///
/// Reads are served from the last chunk the flow returned, without copying when a result
/// lies inside one chunk; writes collect in an output buffer until [`Channel::flush`].
///
/// Input is bounded: the channel holds one chunk of the flow at a time, and a line may be
/// at most [`FlowChannel::DEFAULT_MAX_LINE`] bytes (64 KiB; [`FlowChannel::with_max_line`]
/// sets another limit) before [`Channel::read_line`] fails with
/// [`ChannelError::LineTooLong`]. Output is what the application writes before it flushes.
///
/// ```
/// use mirage_net::FlowChannel;
/// use mirage_types::{Channel, ChannelError, Flow};
///
/// /// Echoes lines back, reversed, until the peer closes.
/// async fn reverse_lines<F: Flow>(flow: F) -> Result<(), ChannelError<F::Error>> {
///     let channel = FlowChannel::new(flow);
///     while let Some(line) = channel.read_line().await? {
///         let reversed: Vec<u8> = line.iter().rev().copied().collect();
///         channel.write_line(&reversed);
///         channel.flush().await?;
///     }
///     channel.close().await
/// }
/// ```
pub struct FlowChannel<F: Flow> {
    flow: F,
    input: RefCell<Bytes>,
    eof: Cell<bool>,
    output: RefCell<BytesMut>,
    max_line: usize,
}

impl<F: Flow> FlowChannel<F> {
    /// The longest line [`Channel::read_line`] accepts unless told otherwise: 64 KiB.
    pub const DEFAULT_MAX_LINE: usize = 64 * 1024;

    /// V1 `create`: a channel over `flow`, lines limited to
    /// [`FlowChannel::DEFAULT_MAX_LINE`].
    pub fn new(flow: F) -> Self {
        Self::with_max_line(flow, Self::DEFAULT_MAX_LINE)
    }

    /// A channel over `flow` whose lines may be at most `max_line` bytes (without the
    /// newline).
    pub fn with_max_line(flow: F, max_line: usize) -> Self {
        FlowChannel {
            flow,
            input: RefCell::new(Bytes::new()),
            eof: Cell::new(false),
            output: RefCell::new(BytesMut::new()),
            max_line,
        }
    }

    /// The longest line this channel accepts.
    pub fn max_line(&self) -> usize {
        self.max_line
    }

    /// V1 `to_flow`: the flow underneath.
    pub fn flow(&self) -> &F {
        &self.flow
    }

    /// The flow back, dropping anything buffered.
    pub fn into_flow(self) -> F {
        self.flow
    }

    /// Makes sure some input is buffered, unless the flow has ended. Returns whether there is.
    async fn fill(&self) -> Result<bool, F::Error> {
        if !self.input.borrow().is_empty() {
            return Ok(true);
        }
        while !self.eof.get() {
            match self.flow.read().await? {
                Read::Data(chunk) if chunk.is_empty() => continue,
                Read::Data(chunk) => {
                    *self.input.borrow_mut() = chunk;
                    return Ok(true);
                }
                Read::Eof => self.eof.set(true),
            }
        }
        Ok(false)
    }

    fn take(&self, len: usize) -> Bytes {
        self.input.borrow_mut().split_to(len)
    }
}

#[async_trait(?Send)]
impl<F: Flow> Channel for FlowChannel<F> {
    type Flow = F;

    async fn read_char(&self) -> ChannelResult<Self, Option<u8>> {
        if !self.fill().await? {
            return Ok(None);
        }
        Ok(Some(self.take(1)[0]))
    }

    async fn read_until(&self, delimiter: u8) -> ChannelResult<Self, (bool, Bytes)> {
        if !self.fill().await? {
            return Ok((false, Bytes::new()));
        }
        let found = self.input.borrow().iter().position(|&b| b == delimiter);
        Ok(match found {
            Some(at) => {
                let data = self.take(at);
                self.take(1);
                (true, data)
            }
            None => {
                let len = self.input.borrow().len();
                (false, self.take(len))
            }
        })
    }

    async fn read_some(&self, max: Option<usize>) -> ChannelResult<Self, Read> {
        if !self.fill().await? {
            return Ok(Read::Eof);
        }
        let available = self.input.borrow().len();
        let len = max.map_or(available, |max| max.clamp(1, available));
        Ok(Read::Data(self.take(len)))
    }

    async fn read_line(&self) -> ChannelResult<Self, Option<Bytes>> {
        let mut parts: Vec<Bytes> = Vec::new();
        let mut length = 0usize;
        loop {
            let (found, part) = self.read_until(b'\n').await?;
            length += part.len();
            // One byte over for a `\r` that the line ends with.
            if length > self.max_line.saturating_add(1) {
                return Err(ChannelError::LineTooLong {
                    limit: self.max_line,
                });
            }
            if !found && part.is_empty() {
                // The flow ended: a last line without a newline, or nothing at all.
                if parts.is_empty() {
                    return Ok(None);
                }
                break;
            }
            parts.push(part);
            if found {
                break;
            }
        }
        let mut line = if parts.len() == 1 {
            parts.pop().unwrap_or_default()
        } else {
            Bytes::from(parts.concat())
        };
        if line.last() == Some(&b'\r') {
            line.truncate(line.len() - 1);
        }
        if line.len() > self.max_line {
            return Err(ChannelError::LineTooLong {
                limit: self.max_line,
            });
        }
        Ok(Some(line))
    }

    fn write_char(&self, byte: u8) {
        self.output.borrow_mut().extend_from_slice(&[byte]);
    }

    fn write_string(&self, text: &str) {
        self.output.borrow_mut().extend_from_slice(text.as_bytes());
    }

    fn write_buffer(&self, bytes: &[u8]) {
        self.output.borrow_mut().extend_from_slice(bytes);
    }

    fn write_line(&self, line: &[u8]) {
        let mut output = self.output.borrow_mut();
        output.extend_from_slice(line);
        output.extend_from_slice(b"\n");
    }

    async fn flush(&self) -> ChannelResult<Self, ()> {
        let pending = self.output.borrow_mut().split().freeze();
        if pending.is_empty() {
            return Ok(());
        }
        Ok(self.flow.write(&pending).await?)
    }

    async fn close(&self) -> ChannelResult<Self, ()> {
        self.flush().await?;
        Ok(self.flow.close().await?)
    }
}
