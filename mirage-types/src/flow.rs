//! V1 `FLOW`: a bidirectional byte stream.

#[allow(unused_imports)]
use crate::prelude::*;

use async_trait::async_trait;
use bytes::Bytes;

/// What a flow read produced: data, or the end of the stream.
///
/// V1 returned `` `Eof `` beside `` `Ok `` and `` `Error ``; here the end of a stream is an
/// ordinary value, never an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Read {
    /// Some bytes (never empty).
    Data(Bytes),
    /// The other side will send nothing more.
    Eof,
}

impl Read {
    /// The data, or `None` at the end of the stream.
    pub fn data(self) -> Option<Bytes> {
        match self {
            Read::Data(bytes) => Some(bytes),
            Read::Eof => None,
        }
    }
}

/// V1 `FLOW`: a stream of bytes in each direction (a console, a TCP connection, ...).
#[async_trait(?Send)]
pub trait Flow {
    /// The flow's own error (V1's abstract `error`; its `error_message` is `Display`).
    type Error: core::error::Error + 'static;

    /// Waits for the next bytes, the end of the stream, or an error.
    async fn read(&self) -> Result<Read, Self::Error>;

    /// Writes all of `buf`. Resolves once the bytes are handed to the transport.
    async fn write(&self, buf: &[u8]) -> Result<(), Self::Error>;

    /// Writes the buffers in order, as one write where the transport allows.
    async fn writev(&self, bufs: &[&[u8]]) -> Result<(), Self::Error> {
        for buf in bufs {
            self.write(buf).await?;
        }
        Ok(())
    }

    /// V1's `close`: ends this side's writing (a half-close; `shutdown(SHUT_WR)` for TCP).
    /// Writes after it fail.
    async fn close(&self) -> Result<(), Self::Error>;
}
