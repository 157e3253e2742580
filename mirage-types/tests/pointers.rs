//! Devices behind `&`, `Box`, `Rc` and `Arc`, and as trait objects, are devices.

use bytes::Bytes;
use mirage_types::{Device, Entry, ErrorKind, KvError, KvRo, async_trait};
use std::rc::Rc;
use std::sync::Arc;

/// A store of one key.
struct One;

#[async_trait(?Send)]
impl Device for One {
    async fn disconnect(&self) {}
}

#[async_trait(?Send)]
impl KvRo for One {
    async fn read(&self, key: &str, offset: u64, length: u64) -> Result<Bytes, KvError> {
        if key.trim_start_matches('/') != "a" {
            return Err(KvError::UnknownKey(key.into()));
        }
        let value = &b"value"[..];
        let start = (offset as usize).min(value.len());
        let end = start.saturating_add(length as usize).min(value.len());
        Ok(Bytes::copy_from_slice(&value[start..end]))
    }

    async fn size(&self, key: &str) -> Result<u64, KvError> {
        self.read(key, 0, u64::MAX).await.map(|v| v.len() as u64)
    }

    async fn exists(&self, key: &str) -> Result<Option<Entry>, KvError> {
        Ok(self.size(key).await.ok().map(|_| Entry::Value))
    }

    async fn list(&self, _key: &str) -> Result<Vec<(String, Entry)>, KvError> {
        Ok(vec![("a".into(), Entry::Value)])
    }
}

/// An application generic over its store, as `Main<C, S, K>` is.
struct Main<K: KvRo> {
    store: K,
}

impl<K: KvRo> Main<K> {
    async fn value(&self) -> Result<Bytes, KvError> {
        self.store.get("a").await
    }
}

#[test]
fn every_pointer_to_a_store_is_a_store() {
    futures::executor::block_on(async {
        let shared = Rc::new(One);
        assert_eq!(
            Main {
                store: shared.clone()
            }
            .value()
            .await
            .unwrap(),
            "value"
        );
        assert_eq!(Main { store: &*shared }.value().await.unwrap(), "value");
        assert_eq!(
            Main {
                store: Arc::new(One)
            }
            .value()
            .await
            .unwrap(),
            "value"
        );
        let chosen: Box<dyn KvRo> = Box::new(One);
        let main = Main { store: chosen };
        assert_eq!(main.value().await.unwrap(), "value");
        let missing = main.store.get("b").await.unwrap_err();
        assert_eq!(missing.kind(), ErrorKind::NotFound);
        // Provided methods go through to the store's own (here: the default digest).
        assert_eq!(
            main.store.digest("a").await.unwrap(),
            mirage_types::hex_sha256(b"value")
        );
        main.store.disconnect().await;
    });
}
