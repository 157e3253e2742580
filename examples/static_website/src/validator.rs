//! Validators: the version of a value a response comes from, and the `ETag` that names it.
//!
//! A store that keeps modification times (a host directory, the compiled-in site) gets a
//! cheap validator, as nginx makes one: the value's size and modification time, read from
//! metadata without touching the contents. A store that keeps none (a FAT image through
//! `FsKv`) gets the value's SHA-256, read in bounded chunks ([`mirage_types::DIGEST_CHUNK`])
//! between which other clients are served; it is computed once per key and size, and
//! requests that arrive while it is computed wait for the same computation.

use crate::http::Status;
use alloc::borrow::ToOwned;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;
use core::time::Duration;
use futures::FutureExt;
use futures::future::{LocalBoxFuture, Shared};
use mirage_types::{ErrorKind, KvError, KvRo};

/// Digests remembered, at most (the oldest half is dropped when full).
const DIGESTS_KEPT: usize = 4096;

/// What a value is now: its size and, where the store keeps one, its modification time.
/// Two equal versions mean the contents did not change, as far as the store can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Version {
    /// The value's length.
    pub size: u64,
    /// When it last changed, if the store says.
    pub modified: Option<Duration>,
}

impl Version {
    /// Whether the store can tell a change of contents at the same size: only then may a
    /// response be checked against the value changing underneath it.
    pub fn tracks_changes(&self) -> bool {
        self.modified.is_some()
    }
}

/// The version of `key` in `store`.
pub async fn version<K: KvRo + ?Sized>(store: &K, key: &str) -> Result<Version, KvError> {
    let size = store.size(key).await?;
    let modified = store.last_modified(key).await?;
    Ok(Version { size, modified })
}

/// The status a store error becomes.
pub fn status_of(error: &KvError) -> Status {
    match error.kind() {
        ErrorKind::NotFound => Status::NOT_FOUND,
        _ => Status::INTERNAL_SERVER_ERROR,
    }
}

type Pending = Shared<LocalBoxFuture<'static, Result<String, Status>>>;

/// The `ETag`s of a store's values.
pub struct Etags<K: KvRo> {
    store: Rc<K>,
    /// Digest-based tags by key, with the size they are for; a pending one is shared by
    /// every request waiting for it.
    digests: RefCell<BTreeMap<String, (u64, Pending)>>,
}

impl<K: KvRo + 'static> Etags<K> {
    /// The tags of `store`'s values.
    pub fn new(store: Rc<K>) -> Self {
        Etags {
            store,
            digests: RefCell::new(BTreeMap::new()),
        }
    }

    /// The `ETag` of `key` at `version`, quoted.
    pub async fn etag(&self, key: &str, version: Version) -> Result<String, Status> {
        if let Some(modified) = version.modified {
            return Ok(format!("\"{:x}-{:x}\"", version.size, modified.as_nanos()));
        }
        let pending = self.digest(key, version.size);
        let tag = pending.await;
        if tag.is_err() {
            // Not remembered: the next request tries again.
            self.digests.borrow_mut().remove(key);
        }
        tag
    }

    /// The digest computation for `key` at `size`: the one remembered or under way, or a
    /// new one.
    fn digest(&self, key: &str, size: u64) -> Pending {
        let mut digests = self.digests.borrow_mut();
        if let Some((known, pending)) = digests.get(key)
            && *known == size
        {
            return pending.clone();
        }
        if digests.len() >= DIGESTS_KEPT {
            let drop: Vec<String> = digests.keys().take(DIGESTS_KEPT / 2).cloned().collect();
            for key in drop {
                digests.remove(&key);
            }
        }
        let store = self.store.clone();
        let owned = key.to_owned();
        let pending = async move {
            let digest = store.digest(&owned).await.map_err(|e| status_of(&e))?;
            // A store's digest is hex; anything else would not make a header value.
            if digest.bytes().all(|b| b.is_ascii_alphanumeric()) {
                Ok(format!("\"{digest}\""))
            } else {
                Err(Status::INTERNAL_SERVER_ERROR)
            }
        }
        .boxed_local()
        .shared();
        digests.insert(key.to_owned(), (size, pending.clone()));
        pending
    }

    /// How many digests are remembered or under way.
    pub fn digests_kept(&self) -> usize {
        self.digests.borrow().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[allow(unused_imports)]
    use crate::test_prelude::*;
    use mirage_kv::MemKv;
    use mirage_types::KvRw;

    /// A store whose digests are counted, to see that concurrent requests share one.
    struct Counted {
        inner: MemKv,
        digests: std::cell::Cell<usize>,
    }

    #[mirage_types::async_trait(?Send)]
    impl mirage_types::Device for Counted {
        async fn disconnect(&self) {}
    }

    #[mirage_types::async_trait(?Send)]
    impl KvRo for Counted {
        async fn read(&self, key: &str, offset: u64, len: u64) -> Result<bytes::Bytes, KvError> {
            tokio::task::yield_now().await;
            self.inner.read(key, offset, len).await
        }
        async fn size(&self, key: &str) -> Result<u64, KvError> {
            self.inner.size(key).await
        }
        async fn exists(&self, key: &str) -> Result<Option<mirage_types::Entry>, KvError> {
            self.inner.exists(key).await
        }
        async fn list(&self, key: &str) -> Result<Vec<(String, mirage_types::Entry)>, KvError> {
            self.inner.list(key).await
        }
        async fn digest(&self, key: &str) -> Result<String, KvError> {
            self.digests.set(self.digests.get() + 1);
            let mut offset = 0;
            let mut hasher = Vec::new();
            loop {
                let chunk = self.read(key, offset, 7).await?;
                if chunk.is_empty() {
                    break;
                }
                offset += chunk.len() as u64;
                hasher.extend_from_slice(&chunk);
            }
            Ok(mirage_types::hex_sha256(&hasher))
        }
    }

    #[test]
    fn concurrent_first_requests_share_one_digest() {
        mirage_unix::run(async {
            let inner = MemKv::new();
            inner.set("page", &[7u8; 100]).await.unwrap();
            let store = Rc::new(Counted {
                inner,
                digests: std::cell::Cell::new(0),
            });
            let etags = Etags::new(store.clone());
            let version = Version {
                size: 100,
                modified: None,
            };
            let tags =
                futures::future::join_all((0..10).map(|_| etags.etag("page", version))).await;
            assert_eq!(store.digests.get(), 1);
            let expected = format!("\"{}\"", mirage_types::hex_sha256(&[7u8; 100]));
            assert!(tags.iter().all(|tag| tag.as_ref().unwrap() == &expected));
            // Another size is another value: computed again.
            inner_set(&store, &[8u8; 50]).await;
            let other = Version {
                size: 50,
                modified: None,
            };
            etags.etag("page", other).await.unwrap();
            assert_eq!(store.digests.get(), 2);
        });
    }

    async fn inner_set(store: &Counted, value: &[u8]) {
        store.inner.set("page", value).await.unwrap();
    }

    #[test]
    fn times_give_tags_without_reading_and_change_with_the_contents() {
        mirage_unix::run(async {
            let store = Rc::new(MemKv::new());
            let etags = Etags::new(store.clone());
            let at = |nanos| Version {
                size: 612,
                modified: Some(Duration::from_nanos(nanos)),
            };
            let first = etags.etag("absent", at(1_000)).await.unwrap();
            let second = etags.etag("absent", at(1_001)).await.unwrap();
            assert_ne!(first, second);
            assert_eq!(first, "\"264-3e8\"");
            assert_eq!(etags.digests_kept(), 0);
        });
    }
}
