//! `FatRoKv`, the `no_std` read-only FAT store a unikernel uses, against images made by the
//! real `mkfs.fat` and `mcopy` (every FAT type, 512- and 4096-byte sectors, a fragmented
//! file), compared with `FsKv` over `FatFs` key by key; and against damaged images, where
//! it must give errors, never panic, loop or read outside the device.

use mirage_block::MemBlock;
use mirage_kv::{FatFs, FatRoKv, FsKv};
use mirage_types::{Entry, KvError, KvRo};
mod common;

use common::{have, sh};
use std::path::Path;

/// A tree with short and long names, nested directories, and files larger than a cluster;
/// `big.bin` is written in two parts around another file, so that its chain is fragmented.
fn image(dir: &Path, mkfs: &str) -> Vec<u8> {
    let tree = dir.join("tree");
    std::fs::create_dir_all(tree.join("Sub Directory/deeper")).unwrap();
    std::fs::write(tree.join("a"), "foo\n").unwrap();
    std::fs::write(tree.join("b"), "bar\n").unwrap();
    std::fs::write(tree.join("README.TXT"), "upper case\n").unwrap();
    std::fs::write(tree.join("A rather long file name.text"), "long name\n").unwrap();
    std::fs::write(tree.join("Sub Directory/deeper/note"), "deep\n").unwrap();
    let big: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(dir.join("part1"), &big[..100_000]).unwrap();
    std::fs::write(dir.join("filler"), vec![9u8; 50_000]).unwrap();
    std::fs::write(dir.join("whole"), &big).unwrap();
    sh(&format!("{mkfs} >/dev/null"), dir);
    sh("mcopy -s -i fat.img tree/* ::", dir);
    // big.bin first gets a short version, a file after it, then grows: its clusters are in
    // two runs.
    sh("mcopy -i fat.img part1 '::Sub Directory/big.bin'", dir);
    sh("mcopy -i fat.img filler ::filler", dir);
    sh("mcopy -o -i fat.img whole '::Sub Directory/big.bin'", dir);
    std::fs::read(dir.join("fat.img")).unwrap()
}

/// Every key of `reference`, walked from the root.
async fn keys<K: KvRo>(store: &K) -> Vec<(String, Entry)> {
    let mut found = Vec::new();
    let mut pending = vec![String::new()];
    while let Some(dir) = pending.pop() {
        for (name, entry) in store.list(&dir).await.unwrap() {
            let key = if dir.is_empty() {
                name
            } else {
                format!("{dir}/{name}")
            };
            if entry == Entry::Dictionary {
                pending.push(key.clone());
            }
            found.push((key, entry));
        }
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found
}

async fn same_as_fat_fs(bytes: Vec<u8>, sector: u32) {
    let ours = FatRoKv::connect(MemBlock::from_bytes(sector, bytes.clone()).unwrap())
        .await
        .unwrap();
    let theirs = FsKv::new(
        FatFs::connect(MemBlock::from_bytes(sector, bytes).unwrap())
            .await
            .unwrap(),
    );
    let listed = keys(&ours).await;
    assert_eq!(listed, keys(&theirs).await);
    assert!(
        listed
            .iter()
            .any(|(key, _)| key == "A rather long file name.text")
    );
    for (key, entry) in &listed {
        assert_eq!(ours.exists(key).await.unwrap(), Some(*entry), "{key}");
        if *entry == Entry::Value {
            assert_eq!(
                ours.get(key).await.unwrap(),
                theirs.get(key).await.unwrap(),
                "{key}"
            );
            assert_eq!(
                ours.size(key).await.unwrap(),
                theirs.size(key).await.unwrap()
            );
            for (offset, length) in [(0, 1), (1, 4095), (70_001, 5000), (299_990, 100)] {
                assert_eq!(
                    ours.read(key, offset, length).await.unwrap(),
                    theirs.read(key, offset, length).await.unwrap(),
                    "{key} {offset} {length}"
                );
            }
        }
    }
    assert_eq!(
        ours.get("/Sub Directory/deeper/note").await.unwrap(),
        "deep\n"
    );
    // Exact names only: another case, or the 8.3 alias of a long name, finds nothing.
    for missing in ["A", "readme.txt", "ARATHE~1.TEX", "missing", "a/b", "../a"] {
        assert_eq!(ours.exists(missing).await.unwrap(), None, "{missing}");
        assert!(ours.get(missing).await.is_err(), "{missing}");
    }
    assert!(matches!(
        ours.get("Sub Directory").await,
        Err(KvError::ValueExpected(_))
    ));
    assert!(matches!(
        ours.list("a").await,
        Err(KvError::DictionaryExpected(_))
    ));
}

#[test]
fn reads_what_mkfs_fat_and_mcopy_make_as_fat_fs_does() {
    if !have("mkfs.fat") || !have("mcopy") {
        return;
    }
    for (mkfs, sector) in [
        ("mkfs.fat -C -F 12 -n TEST fat.img 2048", 512),
        ("mkfs.fat -C -F 16 -s 1 fat.img 20000", 512),
        ("mkfs.fat -C -F 32 -s 1 fat.img 80000", 512),
        ("mkfs.fat -C -F 16 -S 4096 -s 1 fat.img 40000", 4096),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let bytes = image(dir.path(), mkfs);
        mirage_unix::run(same_as_fat_fs(bytes, sector));
    }
}

#[test]
fn damaged_images_give_errors_not_panics() {
    if !have("mkfs.fat") || !have("mcopy") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let good = image(dir.path(), "mkfs.fat -C -F 12 fat.img 2048");
    // Bytes of the boot sector, the FATs and the root directory (the first 16 KiB) in
    // turn set to values that break things, then every key read: errors, never a panic
    // or a hang.
    mirage_unix::run(async {
        for at in (0..16 * 1024).step_by(23) {
            for value in [0x00, 0xff] {
                let mut bytes = good.clone();
                bytes[at] = value;
                let Ok(store) = FatRoKv::connect(MemBlock::from_bytes(512, bytes).unwrap()).await
                else {
                    continue;
                };
                for key in [
                    "",
                    "a",
                    "b",
                    "Sub Directory",
                    "Sub Directory/big.bin",
                    "filler",
                ] {
                    let _ = store.list(key).await;
                    let _ = store.get(key).await;
                }
            }
        }
        // Every FAT entry pointing at cluster 2: every chain of more than one cluster
        // loops, and reading one is an error that says so.
        let mut looping = good.clone();
        let fat = 512..512 + 512 * 6;
        for (i, byte) in looping[fat].iter_mut().enumerate().skip(3) {
            *byte = [0x02, 0x20, 0x00][i % 3];
        }
        let store = FatRoKv::connect(MemBlock::from_bytes(512, looping).unwrap())
            .await
            .unwrap();
        let error = store.get("Sub Directory/big.bin").await.unwrap_err();
        assert!(error.to_string().contains("damaged"), "{error}");
    });
}

#[test]
fn a_device_that_is_not_fat_says_so() {
    mirage_unix::run(async {
        let error = FatRoKv::connect(MemBlock::new(512, 64).unwrap())
            .await
            .unwrap_err();
        assert!(error.to_string().contains("not a FAT volume"), "{error}");
        let error = FatRoKv::connect(MemBlock::new(512, 0).unwrap())
            .await
            .unwrap_err();
        assert!(
            error.to_string().contains("smaller than a boot sector"),
            "{error}"
        );
    });
}
