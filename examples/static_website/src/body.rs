//! Response bodies: empty, whole, or streamed from the store a chunk at a time, so a large
//! value is never read whole into memory.

use bytes::Bytes;
use futures::StreamExt;
use futures::stream::LocalBoxStream;
use http_body::{Frame, SizeHint};
use mirage_types::KvRo;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

/// The bytes read from the store per chunk of a streamed body: the most a response holds in
/// memory at once.
pub const CHUNK: u64 = 64 * 1024;

/// A response body. Not `Send`: a streamed one holds the store, and the devices here are
/// `!Send`, as Mirage's are single-threaded.
pub struct Body(Kind);

enum Kind {
    Whole(Option<Bytes>),
    Streamed {
        chunks: LocalBoxStream<'static, Result<Bytes, std::io::Error>>,
        remaining: u64,
    },
}

/// No body.
pub fn empty() -> Body {
    Body(Kind::Whole(None))
}

/// A body already in memory.
pub fn full(bytes: impl Into<Bytes>) -> Body {
    let bytes = bytes.into();
    Body(Kind::Whole((!bytes.is_empty()).then_some(bytes)))
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        match &mut self.0 {
            Kind::Whole(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            Kind::Streamed { chunks, remaining } => match chunks.poll_next_unpin(cx) {
                Poll::Ready(Some(Ok(chunk))) => {
                    *remaining -= chunk.len() as u64;
                    Poll::Ready(Some(Ok(Frame::data(chunk))))
                }
                Poll::Ready(Some(Err(error))) => {
                    *remaining = 0;
                    Poll::Ready(Some(Err(error)))
                }
                Poll::Ready(None) => Poll::Ready(None),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.0 {
            Kind::Whole(bytes) => bytes.is_none(),
            Kind::Streamed { remaining, .. } => *remaining == 0,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.0 {
            Kind::Whole(bytes) => {
                SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64))
            }
            Kind::Streamed { remaining, .. } => SizeHint::with_exact(*remaining),
        }
    }
}

/// `len` bytes of the value at `key` from `start`, read from `store` in chunks of
/// [`CHUNK`] as the connection takes them. A value that ends early (it shrank since its size
/// was read) or a store error ends the body with an error, which closes the connection: the
/// client sees a short response, never other bytes.
pub fn from_store<K: KvRo + 'static>(store: Rc<K>, key: String, start: u64, len: u64) -> Body {
    let chunks = futures::stream::unfold(
        (store, key, start, len),
        |(store, key, offset, remaining)| async move {
            if remaining == 0 {
                return None;
            }
            let asked = remaining.min(CHUNK);
            let chunk = match store.read(&key, offset, asked).await {
                Ok(chunk) if chunk.is_empty() => Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    format!("{key}: the value ended {remaining} bytes early"),
                )),
                Ok(chunk) => Ok(chunk),
                Err(error) => Err(std::io::Error::other(format!("{key}: {error}"))),
            };
            match chunk {
                Ok(chunk) => {
                    let got = (chunk.len() as u64).min(remaining);
                    let chunk = chunk.slice(..got as usize);
                    Some((Ok(chunk), (store, key, offset + got, remaining - got)))
                }
                // After an error, nothing more.
                Err(error) => Some((Err(error), (store, key, offset, 0))),
            }
        },
    );
    Body(Kind::Streamed {
        chunks: chunks.boxed_local(),
        remaining: len,
    })
}
