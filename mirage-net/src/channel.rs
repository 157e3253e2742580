//! V1's `Channel.Make(Flow)`: buffered reading and writing over any flow.

use bytes::{Bytes, BytesMut};
use mirage_types::{Channel, ChannelError, Flow, Read, async_trait};
use std::cell::{Cell, RefCell};

/// A buffered channel over flow `F` (V1 `CHANNEL`, generic over the flow).
///
/// Reads are served from the last chunk the flow returned, without copying when a result
/// lies inside one chunk; writes collect in an output buffer until [`Channel::flush`].
///
/// ```
/// use mirage_net::FlowChannel;
/// use mirage_types::{Channel, Flow};
///
/// /// Echoes lines back, reversed, until the peer closes.
/// async fn reverse_lines<F: Flow>(flow: F) -> Result<(), F::Error> {
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
}

impl<F: Flow> FlowChannel<F> {
    /// V1 `create`: a channel over `flow`.
    pub fn new(flow: F) -> Self {
        FlowChannel {
            flow,
            input: RefCell::new(Bytes::new()),
            eof: Cell::new(false),
            output: RefCell::new(BytesMut::new()),
        }
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
    async fn fill(&self) -> Result<bool, ChannelError<F>> {
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

    async fn read_char(&self) -> Result<Option<u8>, ChannelError<F>> {
        if !self.fill().await? {
            return Ok(None);
        }
        Ok(Some(self.take(1)[0]))
    }

    async fn read_until(&self, delimiter: u8) -> Result<(bool, Bytes), ChannelError<F>> {
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

    async fn read_some(&self, max: Option<usize>) -> Result<Read, ChannelError<F>> {
        if !self.fill().await? {
            return Ok(Read::Eof);
        }
        let available = self.input.borrow().len();
        let len = max.map_or(available, |max| max.clamp(1, available));
        Ok(Read::Data(self.take(len)))
    }

    async fn read_line(&self) -> Result<Option<Bytes>, ChannelError<F>> {
        let mut parts: Vec<Bytes> = Vec::new();
        loop {
            let (found, part) = self.read_until(b'\n').await?;
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

    async fn flush(&self) -> Result<(), ChannelError<F>> {
        let pending = self.output.borrow_mut().split().freeze();
        if pending.is_empty() {
            return Ok(());
        }
        self.flow.write(&pending).await
    }

    async fn close(&self) -> Result<(), ChannelError<F>> {
        self.flush().await?;
        self.flow.close().await
    }
}
