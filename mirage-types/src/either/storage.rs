//! `Either` over block devices, filesystems and key/value stores.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

use super::{Either, dispatch};
use crate::{Block, BlockError, BlockInfo, Entry, Fs, FsError, KvError, KvRo, KvRw, Stat};
use async_trait::async_trait;
use bytes::Bytes;
use core::time::Duration;

#[async_trait(?Send)]
impl<A: Block, B: Block> Block for Either<A, B> {
    async fn get_info(&self) -> BlockInfo {
        dispatch!(self, b => b.get_info().await)
    }

    async fn read(&self, start_sector: u64, buffers: &mut [&mut [u8]]) -> Result<(), BlockError> {
        dispatch!(self, b => b.read(start_sector, buffers).await)
    }

    async fn write(&self, start_sector: u64, buffers: &[&[u8]]) -> Result<(), BlockError> {
        dispatch!(self, b => b.write(start_sector, buffers).await)
    }

    async fn flush(&self) -> Result<(), BlockError> {
        dispatch!(self, b => b.flush().await)
    }
}

#[async_trait(?Send)]
impl<A: Fs, B: Fs> Fs for Either<A, B> {
    async fn read(&self, path: &str, offset: u64, length: u64) -> Result<Bytes, FsError> {
        dispatch!(self, f => f.read(path, offset, length).await)
    }

    async fn size(&self, path: &str) -> Result<u64, FsError> {
        dispatch!(self, f => f.size(path).await)
    }

    async fn format(&self, size: u64) -> Result<(), FsError> {
        dispatch!(self, f => f.format(size).await)
    }

    async fn create(&self, path: &str) -> Result<(), FsError> {
        dispatch!(self, f => f.create(path).await)
    }

    async fn mkdir(&self, path: &str) -> Result<(), FsError> {
        dispatch!(self, f => f.mkdir(path).await)
    }

    async fn destroy(&self, path: &str) -> Result<(), FsError> {
        dispatch!(self, f => f.destroy(path).await)
    }

    async fn stat(&self, path: &str) -> Result<Stat, FsError> {
        dispatch!(self, f => f.stat(path).await)
    }

    async fn listdir(&self, path: &str) -> Result<Vec<String>, FsError> {
        dispatch!(self, f => f.listdir(path).await)
    }

    async fn write(&self, path: &str, offset: u64, data: &[u8]) -> Result<(), FsError> {
        dispatch!(self, f => f.write(path, offset, data).await)
    }

    async fn listdir_stat(&self, path: &str) -> Result<Vec<Stat>, FsError> {
        dispatch!(self, f => f.listdir_stat(path).await)
    }

    async fn sync(&self) -> Result<(), FsError> {
        dispatch!(self, f => f.sync().await)
    }
}

#[async_trait(?Send)]
impl<A: KvRo, B: KvRo> KvRo for Either<A, B> {
    async fn read(&self, key: &str, offset: u64, length: u64) -> Result<Bytes, KvError> {
        dispatch!(self, kv => kv.read(key, offset, length).await)
    }

    async fn size(&self, key: &str) -> Result<u64, KvError> {
        dispatch!(self, kv => kv.size(key).await)
    }

    async fn exists(&self, key: &str) -> Result<Option<Entry>, KvError> {
        dispatch!(self, kv => kv.exists(key).await)
    }

    async fn list(&self, key: &str) -> Result<Vec<(String, Entry)>, KvError> {
        dispatch!(self, kv => kv.list(key).await)
    }

    async fn get(&self, key: &str) -> Result<Bytes, KvError> {
        dispatch!(self, kv => kv.get(key).await)
    }

    async fn digest(&self, key: &str) -> Result<String, KvError> {
        dispatch!(self, kv => kv.digest(key).await)
    }

    async fn get_partial(&self, key: &str, offset: u64, length: u64) -> Result<Bytes, KvError> {
        dispatch!(self, kv => kv.get_partial(key, offset, length).await)
    }

    async fn last_modified(&self, key: &str) -> Result<Option<Duration>, KvError> {
        dispatch!(self, kv => kv.last_modified(key).await)
    }
}

#[async_trait(?Send)]
impl<A: KvRw, B: KvRw> KvRw for Either<A, B> {
    async fn set(&self, key: &str, value: &[u8]) -> Result<(), KvError> {
        dispatch!(self, kv => kv.set(key, value).await)
    }

    async fn set_partial(&self, key: &str, offset: u64, data: &[u8]) -> Result<(), KvError> {
        dispatch!(self, kv => kv.set_partial(key, offset, data).await)
    }

    async fn remove(&self, key: &str) -> Result<(), KvError> {
        dispatch!(self, kv => kv.remove(key).await)
    }

    async fn rename(&self, source: &str, dest: &str) -> Result<(), KvError> {
        dispatch!(self, kv => kv.rename(source, dest).await)
    }

    async fn allocate(
        &self,
        key: &str,
        size: u64,
        last_modified: Option<Duration>,
    ) -> Result<(), KvError> {
        dispatch!(self, kv => kv.allocate(key, size, last_modified).await)
    }
}
