//! V1 `FLOW`: a bidirectional byte stream.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

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
    /// The flow's own error (V1's abstract `error`; its `error_message` is `Display`), with
    /// the [`crate::Error::kind`] generic code decides on.
    type Error: crate::Error + core::error::Error + 'static;

    /// Waits for the next bytes, the end of the stream, or an error.
    ///
    /// Cancel-safe in every flow of this workspace (TCP on both stacks, the consoles):
    /// bytes leave the transport only in a read that returns them, so a read dropped by a
    /// timeout or a `select!` loses nothing. A flow that cannot promise it says so.
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

    /// Writes from `bufs`, in order, whatever the transport takes now, without an owned
    /// future: `Some(Poll::Ready(Ok(n)))` when it took `n` bytes (more than 0 unless `bufs`
    /// holds none), `Some(Poll::Pending)` when it can take nothing yet (the task of `cx` is
    /// woken when it can), `None` when the flow has no such path (the default) or cannot use
    /// it right now (another write is in progress): the caller then uses [`Flow::writev`].
    ///
    /// It lets a poll-based adapter (tokio's `AsyncWrite`: `FlowStream`) hand the caller's
    /// bytes straight to the transport instead of copying them into a future that owns them.
    fn poll_write_now(
        &self,
        cx: &mut core::task::Context<'_>,
        bufs: &[&[u8]],
    ) -> Option<core::task::Poll<Result<usize, Self::Error>>> {
        let _ = (cx, bufs);
        None
    }

    /// The next read, polled without an owned future: `Some(poll)` answers as
    /// [`Flow::read`] would (the task of `cx` is woken when `Pending` can change), `None`
    /// when the flow has no such path (the default): the caller then uses [`Flow::read`].
    ///
    /// It lets a poll-based adapter (tokio's `AsyncRead`: `FlowStream`) read without
    /// allocating a future per read.
    fn poll_read_now(
        &self,
        cx: &mut core::task::Context<'_>,
    ) -> Option<core::task::Poll<Result<Read, Self::Error>>> {
        let _ = cx;
        None
    }

    /// V1's `close`: ends this side's writing (a half-close; `shutdown(SHUT_WR)` for TCP).
    /// Writes after it fail.
    async fn close(&self) -> Result<(), Self::Error>;
}
