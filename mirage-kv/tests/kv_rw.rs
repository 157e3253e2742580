//! Mirage 4's `KV_RW` contract over every store: `MemKv`, `DirectKv` and `FatKv` (over a
//! device that answers only after yielding, so that readers and writers interleave).

use mirage_block::MemBlock;
use mirage_kv::{DirectKv, FatFs, FatKv, MemKv, conformance};
use mirage_types::{
    Block, BlockError, BlockInfo, Device, Entry, ErrorKind, KvError, KvRo, KvRw, async_trait,
};

fn run<F: std::future::Future>(future: F) -> F::Output {
    mirage_unix::run(future)
}

/// A block device whose every request completes after other tasks have had a turn.
struct Yielding(MemBlock);

#[async_trait(?Send)]
impl Device for Yielding {
    async fn disconnect(&self) {}
}

#[async_trait(?Send)]
impl Block for Yielding {
    async fn get_info(&self) -> BlockInfo {
        self.0.get_info().await
    }
    async fn read(&self, start: u64, buffers: &mut [&mut [u8]]) -> Result<(), BlockError> {
        tokio::task::yield_now().await;
        self.0.read(start, buffers).await
    }
    async fn write(&self, start: u64, buffers: &[&[u8]]) -> Result<(), BlockError> {
        tokio::task::yield_now().await;
        self.0.write(start, buffers).await
    }
    async fn flush(&self) -> Result<(), BlockError> {
        tokio::task::yield_now().await;
        self.0.flush().await
    }
}

async fn fat_store() -> FatKv<Yielding> {
    let fs = FatFs::format_device(Yielding(MemBlock::new(512, 16384).unwrap()))
        .await
        .unwrap();
    FatKv::connect(fs).await.unwrap()
}

/// What the issue asks of generic code: set, get, rename, remove through `K: KvRw` alone.
async fn generic_round_trip<K: KvRw>(store: &K) -> Result<(), KvError> {
    store.set("round/trip", b"one").await?;
    assert_eq!(store.get("round/trip").await?, "one");
    store.rename("round/trip", "round/moved").await?;
    assert_eq!(store.exists("round/trip").await?, None);
    assert_eq!(store.get("round/moved").await?, "one");
    store.remove("round").await?;
    match store.get("round/moved").await {
        Err(error) if error.kind() == ErrorKind::NotFound => Ok(()),
        other => panic!("expected not found, got {other:?}"),
    }
}

#[test]
fn mem_kv_conforms() {
    run(async {
        let store = MemKv::new();
        generic_round_trip(&store).await.unwrap();
        conformance::run_all(&store, 1).await.unwrap();
        conformance::model_checks(&store, 2, 1000).await.unwrap();
    });
}

#[test]
fn direct_kv_conforms() {
    let dir = tempfile::tempdir().unwrap();
    run(async {
        let store = DirectKv::connect(dir.path()).await.unwrap();
        generic_round_trip(&store).await.unwrap();
        conformance::run_all(&store, 3).await.unwrap();
    });
    // Nothing of the store's own is left behind: every temporary file was renamed or removed.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn fat_kv_conforms() {
    run(async {
        let store = fat_store().await;
        generic_round_trip(&store).await.unwrap();
        conformance::run_all(&store, 5).await.unwrap();
    });
}

#[test]
fn each_store_is_usable_as_a_trait_object_and_through_either() {
    run(async {
        let stores: Vec<Box<dyn KvRw>> = vec![Box::new(MemKv::new()), Box::new(fat_store().await)];
        for store in &stores {
            generic_round_trip(store).await.unwrap();
        }
        let either: mirage_types::Either<MemKv, MemKv> = mirage_types::Either::Left(MemKv::new());
        generic_round_trip(&either).await.unwrap();
    });
}

#[test]
fn fat_names_are_exact_and_fat_rules_are_invalid_input() {
    run(async {
        let store = fat_store().await;
        store.set("tls/server.key", b"secret").await.unwrap();
        store.set("long-directory-name/file", b"x").await.unwrap();
        // Other spellings FAT would take for the same entries name nothing here.
        for other in [
            "TLS/server.key",
            "Tls/Server.Key",
            "tls/SERVER.KEY",
            "LONG-D~1/file",
            "long-d~1/file",
        ] {
            assert_eq!(store.exists(other).await.unwrap(), None, "{other}");
            assert_eq!(
                store.get(other).await.unwrap_err().kind(),
                ErrorKind::NotFound,
                "{other}"
            );
        }
        // And writing through one is refused, not merged into the stored entry.
        for other in ["TLS/x", "tls/Server.key", "LONG-D~1/file"] {
            let error = store.set(other, b"y").await.unwrap_err();
            assert_eq!(error.kind(), ErrorKind::InvalidInput, "{other}: {error}");
            assert!(error.to_string().contains("FAT takes"), "{error}");
        }
        assert_eq!(store.get("tls/server.key").await.unwrap(), "secret");
        for (bad, why) in [
            ("a:b", "may not contain"),
            ("what?", "may not contain"),
            ("dir/star*", "may not contain"),
            ("trailing.", "end with a dot"),
            ("tab\there", "may not contain"),
            (".~kvN.x", "store's own"),
        ] {
            let error = store.set(bad, b"x").await.unwrap_err();
            assert_eq!(error.kind(), ErrorKind::InvalidInput, "{bad}");
            assert!(error.to_string().contains(why), "{bad}: {error}");
        }
        let long = "n".repeat(250);
        let error = store.set(&long, b"x").await.unwrap_err();
        assert!(error.to_string().contains("at most 249"), "{error}");
        store.set(&"n".repeat(249), b"ok").await.unwrap();
        // The journal and temporaries never show.
        let listed: Vec<String> = store
            .list("/")
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.0)
            .collect();
        assert!(
            listed.iter().all(|name| !name.starts_with(".~kv")),
            "{listed:?}"
        );
        assert_eq!(store.exists(".~kv-journal").await.unwrap(), None);
    });
}

#[test]
fn fat_kv_survives_a_reopen() {
    run(async {
        let disk = MemBlock::new(512, 16384).unwrap();
        let store = FatKv::connect(FatFs::format_device(disk.clone()).await.unwrap())
            .await
            .unwrap();
        store.set("a/b", b"kept").await.unwrap();
        store
            .allocate("z", 10, Some(std::time::Duration::from_secs(1_600_000_000)))
            .await
            .unwrap();
        drop(store);
        let again = FatKv::connect(
            FatFs::connect(MemBlock::from_bytes(512, disk.to_vec()).unwrap())
                .await
                .unwrap(),
        )
        .await
        .unwrap();
        assert_eq!(again.get("a/b").await.unwrap(), "kept");
        assert_eq!(again.exists("a").await.unwrap(), Some(Entry::Dictionary));
        let time = again.last_modified("z").await.unwrap().unwrap();
        assert_eq!(time.as_secs(), 1_600_000_000);
    });
}
