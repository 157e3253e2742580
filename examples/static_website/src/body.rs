//! Response bodies: empty, whole, or streamed from the store a chunk at a time, so a large
//! value is never read whole into memory.

use crate::validator::{self, Version};
use alloc::borrow::ToOwned;
use alloc::format;
use alloc::rc::Rc;
use alloc::string::String;
use bytes::Bytes;
use futures::StreamExt;
use futures::stream::LocalBoxStream;
use mirage_types::KvRo;

/// The bytes read from the store per chunk of a streamed body: the most a response holds in
/// memory at once.
pub const CHUNK: u64 = 64 * 1024;

/// A response body. Not `Send`: a streamed one holds the store, and the devices here are
/// `!Send`, as Mirage's are single-threaded.
pub struct Body(Kind);

enum Kind {
    Whole(Option<Bytes>),
    Streamed(LocalBoxStream<'static, Result<Bytes, BodyError>>),
}

/// Why a streamed body ended early: the value changed, shrank or went, or the store failed.
/// The connection closes, so the client sees a short response, never a wrong one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BodyError(pub String);

/// No body.
pub fn empty() -> Body {
    Body(Kind::Whole(None))
}

/// A body already in memory.
pub fn full(bytes: impl Into<Bytes>) -> Body {
    let bytes = bytes.into();
    Body(Kind::Whole((!bytes.is_empty()).then_some(bytes)))
}

impl Body {
    /// The next chunk, or `None` at the end (after an error, nothing more).
    pub async fn next_chunk(&mut self) -> Option<Result<Bytes, BodyError>> {
        match &mut self.0 {
            Kind::Whole(bytes) => bytes.take().map(Ok),
            Kind::Streamed(chunks) => chunks.next().await,
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
    Body(Kind::Streamed(chunks.boxed_local()))
}

/// Exactly `len` bytes of `key` from `offset`, read while the value is still at `version`
/// (checked after the read, where the store tracks changes): an error otherwise.
pub async fn read_unchanged<K: KvRo + ?Sized>(
    store: &K,
    key: &str,
    offset: u64,
    len: u64,
    version: Version,
) -> Result<Bytes, BodyError> {
    let chunk = store
        .read(key, offset, len)
        .await
        .map_err(|error| BodyError(format!("{key}: {error}")))?;
    if (chunk.len() as u64) < len {
        return Err(BodyError(format!(
            "{key}: the value ended {} bytes early",
            len - chunk.len() as u64
        )));
    }
    if version.tracks_changes() && validator::version(store, key).await.ok() != Some(version) {
        return Err(BodyError(
            key.to_owned() + ": the value changed while it was being sent",
        ));
    }
    Ok(chunk.slice(..len as usize))
}
