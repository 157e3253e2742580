//! Tokio's `AsyncRead`/`AsyncWrite` over any [`Flow`], so hyper, rustls, tokio-util codecs
//! and the rest of the ecosystem run over a stack's TCP flows.

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
/// Writes are buffered one at a time: `poll_write` accepts the caller's bytes and starts
/// sending them, the next write (or `poll_flush`) waits for that send to finish.
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
/// /// Reads one request of at most 4 KiB and answers it, over any stack.
/// async fn answer_once<S: StackV4>(stack: &S) -> std::io::Result<()> {
///     let listener = stack.bind_tcpv4(7070).await.map_err(std::io::Error::other)?;
///     let flow = listener.accept().await.map_err(std::io::Error::other)?;
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

fn to_io<E: std::error::Error>(error: E) -> io::Error {
    io::Error::other(error.to_string())
}

impl<F: Flow + 'static> AsyncRead for FlowStream<F> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        while this.leftover.is_empty() && !this.eof {
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

impl<F: Flow + 'static> AsyncWrite for FlowStream<F> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_pending_write(cx))?;
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let flow = this.flow.clone();
        let data = buf.to_vec();
        let mut write: LocalBoxFuture<'static, io::Result<()>> =
            Box::pin(async move { flow.write(&data).await.map_err(to_io) });
        // Most writes complete at once; only keep the future if it has to wait.
        match write.as_mut().poll(cx) {
            Poll::Ready(result) => result?,
            Poll::Pending => this.writing = Some(write),
        }
        Poll::Ready(Ok(buf.len()))
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
