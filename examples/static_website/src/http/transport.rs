//! What a connection is served over: a byte stream in each direction (a TCP flow, or TLS
//! over one).

use bytes::Bytes;
use core::future::poll_fn;
use core::task::Poll;
use mirage_types::{Read, TcpFlow};

/// The connection broke (reset, timed out, closed under a write): it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Broken;

/// A connection's bytes, as the server reads and writes them.
///
/// Its futures are not `Send`: the server runs on one thread, as Mirage's do.
#[allow(async_fn_in_trait)]
pub trait Transport {
    /// The next bytes the client sent, or `None` at the end of its stream.
    async fn receive(&mut self) -> Result<Option<Bytes>, Broken>;

    /// Sends all of `parts`, in order, as one write where the transport allows.
    async fn send(&mut self, parts: &[&[u8]]) -> Result<(), Broken>;

    /// Ends this side (the client reads the end of the stream).
    async fn finish(&mut self);
}

/// A TCP flow as a transport, read and written through its poll paths where it has them
/// (no boxed future per read or write on either stack).
pub struct TcpTransport<F: TcpFlow>(pub F);

impl<F: TcpFlow> Transport for TcpTransport<F> {
    async fn receive(&mut self) -> Result<Option<Bytes>, Broken> {
        let flow = &self.0;
        let polled = poll_fn(|cx| match flow.poll_read_now(cx) {
            Some(Poll::Ready(read)) => Poll::Ready(Some(read)),
            Some(Poll::Pending) => Poll::Pending,
            None => Poll::Ready(None),
        })
        .await;
        let read = match polled {
            Some(read) => read,
            None => flow.read().await,
        };
        match read {
            Ok(Read::Data(bytes)) => Ok(Some(bytes)),
            Ok(Read::Eof) => Ok(None),
            Err(_) => Err(Broken),
        }
    }

    async fn send(&mut self, parts: &[&[u8]]) -> Result<(), Broken> {
        let flow = &self.0;
        // The parts as given, until a write takes only some of them: then what is left
        // (the only case that allocates).
        let mut left: Option<alloc::vec::Vec<&[u8]>> = None;
        loop {
            let pending = left.as_deref().unwrap_or(parts);
            let total: usize = pending.iter().map(|part| part.len()).sum();
            if total == 0 {
                return Ok(());
            }
            let taken = poll_fn(|cx| match flow.poll_write_now(cx, pending) {
                Some(Poll::Ready(taken)) => Poll::Ready(Some(taken)),
                Some(Poll::Pending) => Poll::Pending,
                None => Poll::Ready(None),
            })
            .await;
            let taken = match taken {
                Some(Ok(taken)) => taken,
                Some(Err(_)) => return Err(Broken),
                None => return flow.writev(pending).await.map_err(|_| Broken),
            };
            if taken >= total {
                return Ok(());
            }
            left = Some(after(pending, taken));
        }
    }

    async fn finish(&mut self) {
        let _ = self.0.close().await;
    }
}

/// What is left of `parts` once their first `taken` bytes are written.
fn after<'a>(parts: &[&'a [u8]], mut taken: usize) -> alloc::vec::Vec<&'a [u8]> {
    let mut left = alloc::vec::Vec::with_capacity(parts.len());
    for part in parts {
        if taken >= part.len() {
            taken -= part.len();
        } else {
            left.push(&part[taken..]);
            taken = 0;
        }
    }
    left
}
