//! Response bodies: empty, whole, or streamed from the store a chunk at a time, so a large
//! value is never read whole into memory.

use crate::validator::{self, Version};
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
/// [`CHUNK`] as the connection takes them. The body comes from one version of the value:
/// where the store can tell (its [`Version`] tracks changes), the version is read again
/// after every chunk, and a value replaced or edited mid-response ends the body with an
/// error, as does a value that ends early or a store error; the error closes the connection,
/// so the client sees a short response, never bytes of two versions.
pub fn from_store<K: KvRo + 'static>(
    store: Rc<K>,
    key: String,
    start: u64,
    len: u64,
    version: Version,
) -> Body {
    let chunks = futures::stream::unfold(
        (store, key, start, len),
        move |(store, key, offset, remaining)| async move {
            if remaining == 0 {
                return None;
            }
            let asked = remaining.min(CHUNK);
            match read_unchanged(&*store, &key, offset, asked, version).await {
                Ok(chunk) => {
                    let got = chunk.len() as u64;
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

/// Exactly `len` bytes of `key` from `offset`, read while the value is still at `version`
/// (checked after the read, where the store tracks changes): an error otherwise.
pub async fn read_unchanged<K: KvRo + ?Sized>(
    store: &K,
    key: &str,
    offset: u64,
    len: u64,
    version: Version,
) -> Result<Bytes, std::io::Error> {
    let chunk = store
        .read(key, offset, len)
        .await
        .map_err(|error| std::io::Error::other(format!("{key}: {error}")))?;
    if (chunk.len() as u64) < len {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            format!(
                "{key}: the value ended {} bytes early",
                len - chunk.len() as u64
            ),
        ));
    }
    if version.tracks_changes() && validator::version(store, key).await.ok() != Some(version) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::Interrupted,
            format!("{key}: the value changed while it was being sent"),
        ));
    }
    Ok(chunk.slice(..len as usize))
}
