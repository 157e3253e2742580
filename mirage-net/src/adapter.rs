//! Tokio's `AsyncRead`/`AsyncWrite` over any [`Flow`], so hyper, rustls, tokio-util codecs
//! and the rest of the ecosystem run over a stack's TCP flows.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

use bytes::Bytes;
use futures::future::LocalBoxFuture;
use mirage_types::{Flow, Read};
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, ready};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

type Pending<T> = Option<LocalBoxFuture<'static, io::Result<T>>>;

/// A [`Flow`] as a tokio byte stream.
///
/// Writes go straight to the transport when the flow can take them now
/// ([`Flow::poll_write_now`]: the socket stack's flows can); otherwise `poll_write` copies the
/// caller's bytes and starts sending them, and the next write (or `poll_flush`) waits for
/// that send to finish. Vectored writes are one write to the flow. Reads likewise poll the
/// transport directly where the flow can ([`Flow::poll_read_now`]), and otherwise own a
/// [`Flow::read`] future until it answers.
/// `poll_shutdown` flushes and then closes the flow (a half-close for TCP).
///
/// Anything written for tokio's I/O traits runs over a stack's flows this way: hyper,
/// tokio-rustls, tokio-util codecs.
///
/// ```
/// use mirage_net::FlowStream;
/// use mirage_types::{StackV4, TcpListener};
/// use tokio::io::{AsyncReadExt, AsyncWriteExt};
///
/// /// Reads one request of at most 4 KiB and answers it, over any stack. The stack's errors
/// /// convert into `std::io::Error` with their kind kept (a refused connection stays
/// /// `ConnectionRefused`, a timeout `TimedOut`).
/// async fn answer_once<S: StackV4>(stack: &S) -> std::io::Result<()> {
///     let listener = stack.bind_tcpv4(7070).await?;
///     let flow = listener.accept().await?;
///     let mut stream = FlowStream::new(flow);
///     let mut request = vec![0; 4096];
///     let len = stream.read(&mut request).await?;
///     stream.write_all(format!("got {len} bytes\n").as_bytes()).await?;
///     stream.shutdown().await
/// }
/// ```
pub struct FlowStream<F: Flow + 'static> {
    flow: Rc<F>,
    leftover: Bytes,
    eof: bool,
    reading: Pending<Read>,
    writing: Pending<()>,
    closing: Pending<()>,
}

impl<F: Flow + 'static> FlowStream<F> {
    /// Wraps `flow`.
    pub fn new(flow: F) -> Self {
        FlowStream {
            flow: Rc::new(flow),
            leftover: Bytes::new(),
            eof: false,
            reading: None,
            writing: None,
            closing: None,
        }
    }

    /// The flow underneath.
    pub fn flow(&self) -> &F {
        &self.flow
    }

    fn poll_pending_write(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Some(write) = self.writing.as_mut() {
            let result = ready!(write.as_mut().poll(cx));
            self.writing = None;
            result?;
        }
        Poll::Ready(Ok(()))
    }
}

/// A flow's error as `std::io`'s, of the matching kind (see `mirage_types::ErrorKind::to_io`).
fn to_io<E: mirage_types::Error>(error: E) -> io::Error {
    io::Error::new(error.kind().to_io(), error.to_string())
}

impl<F: Flow + 'static> AsyncRead for FlowStream<F> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        while this.leftover.is_empty() && !this.eof {
            // Polled straight from the transport where the flow can, with no future to own.
            if this.reading.is_none()
                && let Some(outcome) = this.flow.poll_read_now(cx)
            {
                match ready!(outcome).map_err(to_io)? {
                    Read::Data(chunk) => this.leftover = chunk,
                    Read::Eof => this.eof = true,
                }
                continue;
            }
            let flow = this.flow.clone();
            let read = this
                .reading
                .get_or_insert_with(|| Box::pin(async move { flow.read().await.map_err(to_io) }));
            let outcome = ready!(read.as_mut().poll(cx));
            this.reading = None;
            match outcome? {
                Read::Data(chunk) => this.leftover = chunk,
                Read::Eof => this.eof = true,
            }
        }
        let take = this.leftover.len().min(buf.remaining());
        buf.put_slice(&this.leftover.split_to(take));
        Poll::Ready(Ok(()))
    }
}

impl<F: Flow + 'static> FlowStream<F> {
    /// Writes `parts`: straight to the transport when the flow can take them now
    /// ([`Flow::poll_write_now`]), else copied into a write that finishes before the next.
    fn poll_write_parts(
        &mut self,
        cx: &mut Context<'_>,
        parts: &[&[u8]],
    ) -> Poll<io::Result<usize>> {
        ready!(self.poll_pending_write(cx))?;
        let total: usize = parts.iter().map(|part| part.len()).sum();
        if total == 0 {
            return Poll::Ready(Ok(0));
        }
        if let Some(written) = self.flow.poll_write_now(cx, parts) {
            return written.map_err(to_io);
        }
        let flow = self.flow.clone();
        let data = parts.concat();
        let mut write: LocalBoxFuture<'static, io::Result<()>> =
            Box::pin(async move { flow.write(&data).await.map_err(to_io) });
        // Most writes complete at once; only keep the future if it has to wait.
        match write.as_mut().poll(cx) {
            Poll::Ready(result) => result?,
            Poll::Pending => self.writing = Some(write),
        }
        Poll::Ready(Ok(total))
    }
}

/// Slices passed to one vectored write, at most (hyper queues fewer).
const MAX_PARTS: usize = 64;

impl<F: Flow + 'static> AsyncWrite for FlowStream<F> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().poll_write_parts(cx, &[buf])
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let mut parts: [&[u8]; MAX_PARTS] = [&[]; MAX_PARTS];
        let count = bufs.len().min(MAX_PARTS);
        for (part, buf) in parts.iter_mut().zip(bufs) {
            *part = buf;
        }
        self.get_mut().poll_write_parts(cx, &parts[..count])
    }

    /// Vectored writes go to the flow as one write: hyper then queues a body's chunks
    /// instead of copying them into its own buffer.
    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_pending_write(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_pending_write(cx))?;
        let flow = this.flow.clone();
        let close = this
            .closing
            .get_or_insert_with(|| Box::pin(async move { flow.close().await.map_err(to_io) }));
        let result = ready!(close.as_mut().poll(cx));
        this.closing = None;
        Poll::Ready(result)
    }
}
