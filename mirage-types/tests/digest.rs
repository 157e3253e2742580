//! `KvRo::digest`'s default hashes a value in bounded reads, never the whole value at once.

use bytes::Bytes;
use mirage_types::{DIGEST_CHUNK, Device, Entry, KvError, KvRo, async_trait, hex_sha256};
use std::cell::Cell;

/// One large value, noting the longest read asked of it.
struct Large {
    value: Vec<u8>,
    longest_read: Cell<u64>,
}

#[async_trait(?Send)]
impl Device for Large {
    async fn disconnect(&self) {}
}

#[async_trait(?Send)]
impl KvRo for Large {
    async fn read(&self, _key: &str, offset: u64, length: u64) -> Result<Bytes, KvError> {
        self.longest_read.set(self.longest_read.get().max(length));
        let start = (offset as usize).min(self.value.len());
        let end = start.saturating_add(length as usize).min(self.value.len());
        Ok(Bytes::copy_from_slice(&self.value[start..end]))
    }

    async fn size(&self, _key: &str) -> Result<u64, KvError> {
        Ok(self.value.len() as u64)
    }

    async fn exists(&self, _key: &str) -> Result<Option<Entry>, KvError> {
        Ok(Some(Entry::Value))
    }

    async fn list(&self, _key: &str) -> Result<Vec<(String, Entry)>, KvError> {
        Ok(Vec::new())
    }
}

#[test]
fn the_default_digest_reads_in_bounded_chunks() {
    let value: Vec<u8> = (0..3_000_017u32).map(|i| (i * 7 + i / 251) as u8).collect();
    let store = Large {
        value: value.clone(),
        longest_read: Cell::new(0),
    };
    let digest = futures::executor::block_on(store.digest("v")).unwrap();
    assert_eq!(digest, hex_sha256(&value));
    assert_eq!(store.longest_read.get(), DIGEST_CHUNK);
}
