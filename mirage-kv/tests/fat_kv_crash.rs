//! `FatKv` after a crash at every point of a write: the device stops after its first `n`
//! sectors (a request that reaches past the limit lands in part), the image is reopened, and
//! the key holds the old value or the new one, never a mix; the store stays usable and
//! `fsck.fat` finds nothing worse than unused clusters.

use mirage_block::MemBlock;
use mirage_kv::{FatFs, FatKv};
use mirage_types::{Block, BlockError, BlockInfo, Device, KvRo, KvRw, async_trait};
use std::cell::Cell;
use std::process::Command;

fn run<F: std::future::Future>(future: F) -> F::Output {
    mirage_unix::run(future)
}

/// A device that loses power after `budget` more sectors are written: the rest of that
/// request and everything after it never reach the medium, and every later request fails.
struct Crashing {
    inner: MemBlock,
    budget: Cell<u64>,
    written: Cell<u64>,
}

impl Crashing {
    fn new(inner: MemBlock, budget: u64) -> Self {
        Crashing {
            inner,
            budget: Cell::new(budget),
            written: Cell::new(0),
        }
    }
}

#[async_trait(?Send)]
impl Device for Crashing {
    async fn disconnect(&self) {}
}

#[async_trait(?Send)]
impl Block for Crashing {
    async fn get_info(&self) -> BlockInfo {
        self.inner.get_info().await
    }

    async fn read(&self, start: u64, buffers: &mut [&mut [u8]]) -> Result<(), BlockError> {
        if self.budget.get() == 0 {
            return Err(BlockError::Disconnected);
        }
        self.inner.read(start, buffers).await
    }

    async fn write(&self, start: u64, buffers: &[&[u8]]) -> Result<(), BlockError> {
        let mut sector = start;
        for buffer in buffers {
            for chunk in buffer.chunks(512) {
                if self.budget.get() == 0 {
                    return Err(BlockError::Disconnected);
                }
                self.inner.write(sector, &[chunk]).await?;
                self.budget.set(self.budget.get() - 1);
                self.written.set(self.written.get() + 1);
                sector += 1;
            }
        }
        Ok(())
    }

    async fn flush(&self) -> Result<(), BlockError> {
        if self.budget.get() == 0 {
            return Err(BlockError::Disconnected);
        }
        Ok(())
    }
}

const OLD: &[u8] = &[b'o'; 3000];
const NEW: &[u8] = &[b'n'; 7000];
const OTHER: &[u8] = b"other";

/// An image holding `dir/key` = [`OLD`] and `dir/other` (and the journal, made by the
/// first write).
async fn base_image() -> Vec<u8> {
    let disk = MemBlock::new(512, 8192).unwrap();
    let store = FatKv::connect(FatFs::format_device(disk.clone()).await.unwrap())
        .await
        .unwrap();
    store.set("dir/key", OLD).await.unwrap();
    store.set("dir/other", b"other").await.unwrap();
    // More entries after them, so that the directory spans sectors and a commit's renames
    // touch more than one of them.
    for n in 0..24 {
        store
            .set(&format!("dir/filler-{n:02}"), b"f")
            .await
            .unwrap();
    }
    disk.to_vec()
}

/// What `dir/key` and `dir/other` may hold after a crash (`None`: missing).
type States<'a> = &'a [(Option<&'a [u8]>, Option<&'a [u8]>)];

async fn value_of<K: KvRo>(store: &K, key: &str, what: &str) -> Option<Vec<u8>> {
    match store.get(key).await {
        Ok(value) => Some(value.to_vec()),
        Err(error) if error.kind() == mirage_types::ErrorKind::NotFound => None,
        Err(error) => panic!("{what}: reading {key} failed: {error}"),
    }
}

/// Reopens `image` after the crash and checks what any reader may rely on: the two keys
/// together are in one of the `allowed` states.
async fn check_after_crash(image: Vec<u8>, allowed: States<'_>, what: &str) {
    let disk = MemBlock::from_bytes(512, image).unwrap();
    let store = FatKv::connect(FatFs::connect(disk.clone()).await.unwrap())
        .await
        .unwrap_or_else(|error| panic!("{what}: reopening failed: {error}"));
    let key = value_of(&store, "dir/key", what).await;
    let other = value_of(&store, "dir/other", what).await;
    assert!(
        allowed
            .iter()
            .any(|(k, o)| key.as_deref() == *k && other.as_deref() == *o),
        "{what}: found key {:?} bytes starting {:?}, other {:?}",
        key.as_ref().map(|v| v.len()),
        key.as_ref().and_then(|v| v.first()),
        other.as_ref().map(|v| v.len()),
    );
    let names: Vec<String> = store
        .list("dir")
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.0)
        .collect();
    assert!(
        names
            .iter()
            .all(|n| ["key", "other", "moved"].contains(&n.as_str()) || n.starts_with("filler-")),
        "{what}: {names:?}"
    );
    // Still writable, and what is written is read back.
    store.set("dir/key", b"after").await.unwrap();
    assert_eq!(store.get("dir/key").await.unwrap(), "after", "{what}");
    fsck(&disk.to_vec(), what);
}

/// `fsck.fat -n` (when installed) finds no damage. It may report two things a crash leaves
/// and nothing reads: clusters allocated but unused, and a second FAT (a mirror FAT drivers
/// do not read) that differs from the first because the power went between the two.
fn fsck(image: &[u8], what: &str) {
    if Command::new("fsck.fat").arg("--help").output().is_err() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("image");
    std::fs::write(&path, image).unwrap();
    let out = Command::new("fsck.fat")
        .arg("-n")
        .arg(&path)
        .output()
        .unwrap();
    let report =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    let damage: Vec<&str> = report
        .lines()
        .filter(|line| {
            !line.is_empty()
                && !line.starts_with("fsck.fat")
                && !line.contains("unused clusters")
                && !line.starts_with("FATs differ but appear to be intact")
                && !line.starts_with("Reclaim")
                && !line.starts_with("Leaving filesystem unchanged")
                && !line.contains("files,")
                && !line.starts_with("Checking")
                && !line.contains("differences between boot sector")
                && !line.starts_with("  ")
                && !line.starts_with("Not automatically fixing")
                && !line.starts_with("Free cluster summary")
        })
        .collect();
    assert!(
        damage.is_empty(),
        "{what}: fsck.fat reports {damage:?}\n{report}"
    );
}

/// Crashes `op` after each number of written sectors in turn, until it completes.
async fn crash_everywhere<F, Fut>(base: &[u8], allowed: States<'_>, label: &str, op: F)
where
    F: Fn(FatKv<Crashing>) -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let mut budget = 0;
    loop {
        let disk = MemBlock::from_bytes(512, base.to_vec()).unwrap();
        let crashing = Crashing::new(disk.clone(), budget);
        crashing.budget.set(u64::MAX);
        let fs = FatFs::connect(crashing).await.unwrap();
        let store = FatKv::connect(fs).await.unwrap();
        store.fs().block().budget.set(budget);
        let completed = op(store).await;
        check_after_crash(
            disk.to_vec(),
            allowed,
            &format!("{label}, crash after {budget} sectors"),
        )
        .await;
        if completed {
            eprintln!("{label}: completed after {budget} crash points");
            assert!(budget > 3, "{label}: the write wrote almost nothing");
            return;
        }
        budget += 1;
    }
}

#[test]
fn a_crash_during_set_leaves_the_old_value_or_the_new() {
    run(async {
        let base = base_image().await;
        let states = [(Some(OLD), Some(OTHER)), (Some(NEW), Some(OTHER))];
        crash_everywhere(&base, &states, "set", |store| async move {
            store.set("dir/key", NEW).await.is_ok()
        })
        .await;
    });
}

#[test]
fn a_crash_during_set_of_a_new_key_leaves_nothing_or_the_value() {
    run(async {
        let base = base_image().await;
        let states = [(Some(OLD), Some(OTHER))];
        crash_everywhere(&base, &states, "set of another key", |store| async move {
            let done = store.set("dir/moved", NEW).await.is_ok();
            if done {
                assert_eq!(store.get("dir/moved").await.unwrap(), NEW);
            }
            done
        })
        .await;
    });
}

#[test]
fn a_crash_during_rename_over_a_value_leaves_one_or_the_other() {
    run(async {
        let base = base_image().await;
        // `dir/other` is renamed over `dir/key`: before, or after, never both or neither.
        let states = [(Some(OLD), Some(OTHER)), (Some(OTHER), None)];
        crash_everywhere(&base, &states, "rename", |store| async move {
            store.rename("dir/other", "dir/key").await.is_ok()
        })
        .await
    });
}

#[test]
fn a_crash_during_remove_leaves_the_value_or_nothing() {
    run(async {
        let base = base_image().await;
        let states = [(Some(OLD), Some(OTHER)), (None, Some(OTHER))];
        crash_everywhere(&base, &states, "remove", |store| async move {
            store.remove("dir/key").await.is_ok()
        })
        .await;
    });
}
