//! A read-only key/value store over a FAT12/16/32 volume on any block device, without
//! `std`: what a unikernel reads its FAT disk with (Mirage's `kv_ro` over `fat`).

mod directory;
mod layout;

#[allow(unused_imports)]
use crate::alloc_prelude::*;
use alloc::collections::BTreeMap;
use bytes::Bytes;
use core::cell::RefCell;
use directory::Node;
use layout::{Layout, Root};
use mirage_types::{Block, Device, Entry, FsError, KvError, KvRo, async_trait};

/// FAT sectors kept in memory (a chain is walked one entry at a time).
const FAT_CACHE_SECTORS: usize = 64;
/// The most a directory may hold, in bytes (32,768 entries): a corrupt chain cannot make a
/// listing take all memory.
const MAX_DIRECTORY_BYTES: u64 = 1 << 20;

/// Mirage's `kv_ro` over a FAT volume on block device `B`, read-only and without `std`:
/// keys are paths of long names (or short names where a file has no long name), matched
/// exactly as stored (no case folding, no 8.3 aliases), as `FsKv` over `FatFs` matches them.
/// A damaged volume (chains that loop or leave the volume, a file longer than its chain)
/// is a clear error, never a panic or a read outside the volume.
///
/// ```
/// use mirage_block::MemBlock;
/// use mirage_kv::FatRoKv;
/// use mirage_types::KvRo;
///
/// mirage_unix::run(async {
///     // Not a FAT volume: the error says so.
///     let disk = MemBlock::new(512, 64).unwrap();
///     let error = FatRoKv::connect(disk).await.unwrap_err();
///     assert!(error.to_string().contains("not a FAT volume"), "{error}");
/// });
/// ```
pub struct FatRoKv<B> {
    block: B,
    layout: Layout,
    sector_size: u64,
    fat_cache: RefCell<BTreeMap<u64, Bytes>>,
}

/// What a key names.
enum Found {
    Root,
    Node(Node),
}

fn corrupt(why: impl Into<String>) -> KvError {
    KvError::Failure(format!("the FAT volume is damaged: {}", why.into()))
}

impl<B: Block> FatRoKv<B> {
    /// Opens the FAT volume on `block`.
    pub async fn connect(block: B) -> Result<Self, KvError> {
        let info = block.get_info().await;
        let sector_size = u64::from(info.sector_size);
        if sector_size == 0 {
            return Err(KvError::Filesystem(FsError::FormatNotRecognised(
                "a device with 0-byte sectors".into(),
            )));
        }
        let mut boot = vec![0; sector_size.max(512).next_multiple_of(sector_size) as usize];
        if (boot.len() as u64) > info.size_bytes() {
            return Err(KvError::Filesystem(FsError::FormatNotRecognised(
                "the device is smaller than a boot sector".into(),
            )));
        }
        block
            .read_at(0, &mut boot)
            .await
            .map_err(|e| KvError::Filesystem(e.into()))?;
        let layout = Layout::parse(&boot, info.size_bytes())
            .map_err(|why| KvError::Filesystem(FsError::FormatNotRecognised(why)))?;
        Ok(FatRoKv {
            block,
            layout,
            sector_size,
            fat_cache: RefCell::new(BTreeMap::new()),
        })
    }

    /// The device underneath.
    pub fn block(&self) -> &B {
        &self.block
    }

    /// `buf.len()` bytes from byte `offset` of the device (inside the volume).
    async fn read_bytes(&self, offset: u64, buf: &mut [u8]) -> Result<(), KvError> {
        if buf.is_empty() {
            return Ok(());
        }
        let first = offset / self.sector_size;
        if offset.is_multiple_of(self.sector_size)
            && (buf.len() as u64).is_multiple_of(self.sector_size)
        {
            // Whole sectors (most of a file's clusters): straight into the caller's buffer.
            return self
                .block
                .read_at(first, buf)
                .await
                .map_err(|e| KvError::Filesystem(e.into()));
        }
        let end = (offset + buf.len() as u64).div_ceil(self.sector_size);
        let mut sectors = vec![0; ((end - first) * self.sector_size) as usize];
        self.block
            .read_at(first, &mut sectors)
            .await
            .map_err(|e| KvError::Filesystem(e.into()))?;
        let skip = (offset - first * self.sector_size) as usize;
        buf.copy_from_slice(&sectors[skip..skip + buf.len()]);
        Ok(())
    }

    /// The device sector at `index`, from the FAT cache.
    async fn fat_sector(&self, index: u64) -> Result<Bytes, KvError> {
        if let Some(sector) = self.fat_cache.borrow().get(&index) {
            return Ok(sector.clone());
        }
        let mut sector = vec![0; self.sector_size as usize];
        self.read_bytes(index * self.sector_size, &mut sector)
            .await?;
        let sector = Bytes::from(sector);
        let mut cache = self.fat_cache.borrow_mut();
        if cache.len() >= FAT_CACHE_SECTORS {
            cache.clear();
        }
        cache.insert(index, sector.clone());
        Ok(sector)
    }

    /// The cluster after `cluster` in its chain (`None` at the end).
    async fn next(&self, cluster: u32) -> Result<Option<u32>, KvError> {
        let at = self.layout.entry_at(cluster);
        let mut bytes = [0u8; 4];
        for (i, byte) in bytes.iter_mut().enumerate() {
            let at = at + i as u64;
            // A FAT12 or FAT16 entry is 2 bytes; past the FAT's end nothing is read.
            if at >= self.layout.fat_start + self.layout.fat_bytes {
                break;
            }
            let sector = self.fat_sector(at / self.sector_size).await?;
            *byte = sector[(at % self.sector_size) as usize];
        }
        self.layout.next(cluster, bytes).map_err(corrupt)
    }

    /// The clusters of the chain from `first`, at most `limit` of them.
    async fn chain(&self, first: u32, limit: u64) -> Result<Vec<u32>, KvError> {
        if !self.layout.is_data(first) {
            return Err(corrupt(format!(
                "a chain starts at cluster {first}, outside the volume"
            )));
        }
        let mut clusters = vec![first];
        let mut current = first;
        while (clusters.len() as u64) < limit {
            match self.next(current).await? {
                Some(next) if clusters.len() as u64 > u64::from(self.layout.clusters) => {
                    return Err(corrupt(format!(
                        "the chain from cluster {first} loops at {next}"
                    )));
                }
                Some(next) => {
                    clusters.push(next);
                    current = next;
                }
                None => break,
            }
        }
        Ok(clusters)
    }

    /// Reads `clusters` from cluster-relative byte `skip`, `buf.len()` bytes, a run of
    /// consecutive clusters per device request.
    async fn read_clusters(
        &self,
        clusters: &[u32],
        skip: u64,
        buf: &mut [u8],
    ) -> Result<(), KvError> {
        let size = self.layout.cluster_bytes;
        let (mut index, mut offset, mut done) = ((skip / size) as usize, skip % size, 0);
        while done < buf.len() {
            let mut run = 1;
            while index + run < clusters.len()
                && clusters[index + run] == clusters[index] + run as u32
            {
                run += 1;
            }
            let start = self.layout.cluster_start(clusters[index]) + offset;
            let take = ((run as u64 * size - offset) as usize).min(buf.len() - done);
            self.read_bytes(start, &mut buf[done..done + take]).await?;
            done += take;
            index += run;
            offset = 0;
        }
        Ok(())
    }

    /// The entries of the root directory, or of directory `node`.
    async fn directory(&self, node: Option<&Node>) -> Result<Vec<Node>, KvError> {
        let bytes = match (node, self.layout.root) {
            (None, Root::Fixed { start, entries }) => {
                let mut bytes = vec![0; entries as usize * 32];
                self.read_bytes(start, &mut bytes).await?;
                bytes
            }
            (None, Root::Chain(first)) => self.directory_chain(first).await?,
            (Some(node), _) => self.directory_chain(node.first_cluster).await?,
        };
        Ok(directory::parse(&bytes))
    }

    async fn directory_chain(&self, first: u32) -> Result<Vec<u8>, KvError> {
        let limit = MAX_DIRECTORY_BYTES.div_ceil(self.layout.cluster_bytes);
        let clusters = self.chain(first, limit + 1).await?;
        if clusters.len() as u64 > limit {
            return Err(corrupt(format!(
                "a directory at cluster {first} is over {MAX_DIRECTORY_BYTES} bytes"
            )));
        }
        let mut bytes = vec![0; (clusters.len() as u64 * self.layout.cluster_bytes) as usize];
        self.read_clusters(&clusters, 0, &mut bytes).await?;
        Ok(bytes)
    }

    /// What `key` names, looked up name by name.
    async fn find(&self, key: &str) -> Result<Found, KvError> {
        let mut found = Found::Root;
        for segment in crate::key::segments(key)? {
            let parent = match &found {
                Found::Root => None,
                Found::Node(node) if node.directory => Some(node),
                Found::Node(_) => return Err(KvError::UnknownKey(key.to_owned())),
            };
            let entries = self.directory(parent).await?;
            let node = entries
                .into_iter()
                .find(|node| node.name == segment)
                .ok_or_else(|| KvError::UnknownKey(key.to_owned()))?;
            found = Found::Node(node);
        }
        Ok(found)
    }

    async fn file(&self, key: &str) -> Result<Node, KvError> {
        match self.find(key).await? {
            Found::Node(node) if !node.directory => Ok(node),
            _ => Err(KvError::ValueExpected(key.to_owned())),
        }
    }
}

#[async_trait(?Send)]
impl<B: Block> Device for FatRoKv<B> {
    /// Disconnects the device underneath.
    async fn disconnect(&self) {
        self.block.disconnect().await
    }
}

#[async_trait(?Send)]
impl<B: Block> KvRo for FatRoKv<B> {
    async fn read(&self, key: &str, offset: u64, length: u64) -> Result<Bytes, KvError> {
        let node = self.file(key).await?;
        let size = u64::from(node.size);
        let start = offset.min(size);
        let end = start.saturating_add(length).min(size);
        if start == end {
            return Ok(Bytes::new());
        }
        let needed = (end - 1) / self.layout.cluster_bytes + 1;
        let clusters = self.chain(node.first_cluster, needed).await?;
        if (clusters.len() as u64) < needed {
            return Err(corrupt(format!(
                "{key} has {size} bytes but {} clusters",
                clusters.len()
            )));
        }
        let mut data = vec![0; (end - start) as usize];
        self.read_clusters(&clusters, start, &mut data).await?;
        Ok(Bytes::from(data))
    }

    async fn size(&self, key: &str) -> Result<u64, KvError> {
        Ok(u64::from(self.file(key).await?.size))
    }

    async fn exists(&self, key: &str) -> Result<Option<Entry>, KvError> {
        match self.find(key).await {
            Ok(Found::Root) => Ok(Some(Entry::Dictionary)),
            Ok(Found::Node(node)) if node.directory => Ok(Some(Entry::Dictionary)),
            Ok(Found::Node(_)) => Ok(Some(Entry::Value)),
            Err(KvError::UnknownKey(_) | KvError::InvalidKey { .. }) => Ok(None),
            Err(error) => Err(error),
        }
    }

    async fn list(&self, key: &str) -> Result<Vec<(String, Entry)>, KvError> {
        let entries = match self.find(key).await? {
            Found::Root => self.directory(None).await?,
            Found::Node(node) if node.directory => self.directory(Some(&node)).await?,
            Found::Node(_) => return Err(KvError::DictionaryExpected(key.to_owned())),
        };
        Ok(entries
            .into_iter()
            .map(|node| {
                let entry = if node.directory {
                    Entry::Dictionary
                } else {
                    Entry::Value
                };
                (node.name, entry)
            })
            .collect())
    }
}

impl<B> core::fmt::Debug for FatRoKv<B> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("FatRoKv")
            .field("kind", &self.layout.kind)
            .field("clusters", &self.layout.clusters)
            .finish_non_exhaustive()
    }
}
