//! `FatFs` against images made by the real `mkfs.fat` and `mcopy`, and images it wrote
//! checked by `fsck.fat` and `mtools`.

use mirage_block::{FileBlock, MemBlock};
use mirage_kv::FatFs;
use mirage_types::{Block, Fs, FsError};
mod common;

use common::{have, sh};
use std::path::Path;
use std::process::Command;

fn run<F: std::future::Future>(future: F) -> F::Output {
    mirage_unix::run(future)
}

/// A tree with a long name, a subdirectory and a file larger than a cluster.
fn sample_tree(dir: &Path) -> Vec<u8> {
    let tree = dir.join("tree");
    std::fs::create_dir_all(tree.join("Sub Directory/deeper")).unwrap();
    std::fs::write(tree.join("a"), "foo\n").unwrap();
    std::fs::write(tree.join("A rather long file name.text"), "long name\n").unwrap();
    let big: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(tree.join("Sub Directory/big.bin"), &big).unwrap();
    std::fs::write(tree.join("Sub Directory/deeper/note"), "deep\n").unwrap();
    big
}

async fn check_sample<B: Block>(fs: &FatFs<B>, big: &[u8]) {
    let mut root = fs.listdir("/").await.unwrap();
    root.sort();
    assert_eq!(root, ["A rather long file name.text", "Sub Directory", "a"]);
    assert_eq!(fs.read("a", 0, 4096).await.unwrap(), "foo\n");
    assert_eq!(
        fs.read("/A rather long file name.text", 0, 100)
            .await
            .unwrap(),
        "long name\n"
    );
    assert_eq!(
        fs.size("Sub Directory/big.bin").await.unwrap(),
        big.len() as u64
    );
    assert_eq!(
        &fs.read("Sub Directory/big.bin", 0, 1 << 20).await.unwrap()[..],
        big
    );
    assert_eq!(
        &fs.read("Sub Directory/big.bin", 70_001, 5000)
            .await
            .unwrap()[..],
        &big[70_001..75_001]
    );
    assert_eq!(
        fs.read("Sub Directory/deeper/note", 2, 10).await.unwrap(),
        "ep\n"
    );
    assert!(fs.stat("Sub Directory").await.unwrap().directory);
    assert!(matches!(
        fs.read("missing", 0, 1).await,
        Err(FsError::NoDirectoryEntry { .. })
    ));
    assert!(matches!(
        fs.read("Sub Directory", 0, 1).await,
        Err(FsError::IsADirectory(_))
    ));
}

#[test]
fn reads_mkfs_fat_images_of_every_fat_type() {
    if !have("mkfs.fat") || !have("mcopy") {
        return;
    }
    for (fat, kib) in [(12, 2048), (16, 20_000), (32, 80_000)] {
        let dir = tempfile::tempdir().unwrap();
        let big = sample_tree(dir.path());
        sh(
            &format!("mkfs.fat -C -F {fat} -n TEST fat.img {kib} >/dev/null"),
            dir.path(),
        );
        sh("mcopy -s -i fat.img tree/* ::", dir.path());
        run(async {
            let block = FileBlock::connect(dir.path().join("fat.img"))
                .await
                .unwrap();
            let fs = FatFs::connect(block).await.unwrap();
            check_sample(&fs, &big).await;
        });
    }
}

#[test]
fn reads_a_4096_byte_sector_image() {
    if !have("mkfs.fat") || !have("mcopy") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let big = sample_tree(dir.path());
    sh(
        "mkfs.fat -C -S 4096 -s 1 -F 16 fat.img 40000 >/dev/null",
        dir.path(),
    );
    sh("mcopy -s -i fat.img tree/* ::", dir.path());
    let image = std::fs::read(dir.path().join("fat.img")).unwrap();
    run(async {
        let fs = FatFs::connect(MemBlock::from_bytes(4096, image).unwrap())
            .await
            .unwrap();
        check_sample(&fs, &big).await;
    });
}

#[test]
fn what_fat_fs_writes_passes_fsck_and_lists_in_mtools() {
    if !have("mkfs.fat") || !have("mdir") || !have("fsck.fat") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    sh("mkfs.fat -C -F 16 fat.img 20000 >/dev/null", dir.path());
    let big: Vec<u8> = (0..100_000u32).map(|i| (i % 253) as u8).collect();
    run(async {
        let block = FileBlock::connect(dir.path().join("fat.img"))
            .await
            .unwrap();
        let fs = FatFs::connect(block).await.unwrap();
        fs.mkdir("docs/old").await.unwrap();
        fs.mkdir("docs").await.unwrap(); // existing: fine
        fs.write("docs/Readme for humans.txt", 0, b"hello\n")
            .await
            .unwrap();
        fs.write("docs/Readme for humans.txt", 6, b"world\n")
            .await
            .unwrap();
        fs.write("data/big.bin", 0, &big).await.unwrap();
        fs.write("sparse", 10, b"x").await.unwrap();
        fs.create("empty").await.unwrap();
        assert!(matches!(
            fs.create("empty").await,
            Err(FsError::FileAlreadyExists(_))
        ));
        fs.create("gone").await.unwrap();
        fs.destroy("gone").await.unwrap();
        assert!(matches!(
            fs.destroy("docs").await,
            Err(FsError::DirectoryNotEmpty(_))
        ));
        fs.destroy("docs/old").await.unwrap();
        assert_eq!(
            fs.read("sparse", 0, 100).await.unwrap(),
            &b"\0\0\0\0\0\0\0\0\0\0x"[..]
        );
        fs.sync().await.unwrap();
    });
    sh("fsck.fat -n fat.img", dir.path());
    let listing = Command::new("mdir")
        .args(["-b", "-/", "-i", "fat.img", "::"])
        .current_dir(dir.path())
        .env("MTOOLS_SKIP_CHECK", "1")
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&listing.stdout);
    for expected in [
        "::/docs/Readme for humans.txt",
        "::/data/big.bin",
        "::/sparse",
        "::/empty",
    ] {
        assert!(
            listing.contains(expected),
            "{expected} missing from {listing}"
        );
    }
    assert!(
        !listing.contains("gone") && !listing.contains("old"),
        "{listing}"
    );
    sh(
        "mtype -i fat.img '::/docs/Readme for humans.txt' > readme.out",
        dir.path(),
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("readme.out")).unwrap(),
        "hello\nworld\n"
    );
    sh("mcopy -i fat.img ::/data/big.bin big.out", dir.path());
    assert_eq!(std::fs::read(dir.path().join("big.out")).unwrap(), big);
}
