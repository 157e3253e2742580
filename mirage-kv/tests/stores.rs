//! The three stores (crunch, direct, FAT through `FsKv`) answer alike, and hostile keys
//! reach nothing.

use mirage_block::MemBlock;
use mirage_kv::{Crunch, DirectKv, FatFs, FsKv, RustEmbed, image};
use mirage_types::{Entry, KvError, KvRo, hex_sha256};
use std::os::unix::fs::symlink;
use std::path::Path;

#[derive(RustEmbed)]
#[folder = "tests/data/t/"]
#[crate_path = "mirage_kv::rust_embed"]
struct Data;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/t");

fn run<F: std::future::Future>(future: F) -> F::Output {
    mirage_unix::run(future)
}

async fn fat_of(dir: &Path) -> FsKv<FatFs<MemBlock>> {
    let fs = FatFs::format_device(MemBlock::new(512, 4096).unwrap())
        .await
        .unwrap();
    image::populate(&fs, dir).await.unwrap();
    FsKv::new(fs)
}

/// The behaviour every store must share, on the tests/data/t tree.
async fn behaves<K: KvRo>(store: &K) {
    assert_eq!(store.read("a", 0, 4096).await.unwrap(), "foo\n");
    assert_eq!(store.read("/a", 0, 4096).await.unwrap(), "foo\n");
    assert_eq!(store.read("b", 1, 2).await.unwrap(), "ar");
    assert_eq!(store.read("b", 10, 2).await.unwrap(), "");
    assert_eq!(store.read("sub/c", 0, 100).await.unwrap(), "deep\n");
    assert_eq!(store.size("a").await.unwrap(), 4);
    assert_eq!(store.get("/sub/c").await.unwrap(), "deep\n");
    assert_eq!(store.exists("a").await.unwrap(), Some(Entry::Value));
    assert_eq!(store.exists("sub").await.unwrap(), Some(Entry::Dictionary));
    assert_eq!(store.exists("nope").await.unwrap(), None);
    assert_eq!(
        store.list("/").await.unwrap(),
        vec![
            ("a".to_owned(), Entry::Value),
            ("b".to_owned(), Entry::Value),
            ("sub".to_owned(), Entry::Dictionary)
        ]
    );
    assert_eq!(
        store.list("sub").await.unwrap(),
        vec![("c".to_owned(), Entry::Value)]
    );
    assert_eq!(store.digest("a").await.unwrap(), hex_sha256(b"foo\n"));
    assert_eq!(
        store.read("missing", 0, 1).await,
        Err(KvError::UnknownKey("missing".into()))
    );
    assert_eq!(
        store.read("sub", 0, 1).await,
        Err(KvError::ValueExpected("sub".into()))
    );
    assert_eq!(
        store.list("a").await,
        Err(KvError::DictionaryExpected("a".into()))
    );
    for hostile in [
        "../Cargo.toml",
        "sub/../../Cargo.toml",
        "a\0",
        "/../../etc/passwd",
        "sub//c",
    ] {
        assert_eq!(
            store.read(hostile, 0, 10).await,
            Err(KvError::UnknownKey(hostile.into())),
            "{hostile:?}"
        );
    }
}

#[test]
fn crunch_direct_and_fat_behave_alike() {
    run(async {
        behaves(&Crunch::<Data>::new()).await;
        behaves(&DirectKv::connect(DATA).await.unwrap()).await;
        behaves(&fat_of(Path::new(DATA)).await).await;
    });
}

#[test]
fn crunch_values_are_views_of_the_binary() {
    run(async {
        let store = Crunch::<Data>::new();
        let first = store.get("a").await.unwrap();
        let second = store.read("/a", 1, 2).await.unwrap();
        // Both point into the same static data: no copy was made.
        assert_eq!(second.as_ptr(), first.as_ptr().wrapping_add(1));
        let embedded = Data::get("a").unwrap().data;
        assert!(matches!(embedded, std::borrow::Cow::Borrowed(_)));
        assert_eq!(first.as_ptr(), embedded.as_ptr());
    });
}

#[test]
fn direct_refuses_every_way_out() {
    let root = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret"), "secret").unwrap();
    std::fs::write(root.path().join("inside"), "inside").unwrap();
    std::fs::create_dir(root.path().join("dir")).unwrap();
    symlink(outside.path().join("secret"), root.path().join("escape")).unwrap();
    symlink(outside.path(), root.path().join("dir/escape-dir")).unwrap();
    symlink("/etc/passwd", root.path().join("passwd")).unwrap();
    symlink("../inside", root.path().join("dir/back-inside")).unwrap();
    run(async {
        let store = DirectKv::connect(root.path()).await.unwrap();
        assert_eq!(store.get("inside").await.unwrap(), "inside");
        // A link that stays inside is followed.
        assert_eq!(store.get("dir/back-inside").await.unwrap(), "inside");
        let absolute = format!("{}/secret", outside.path().display());
        for key in [
            "escape",
            "dir/escape-dir/secret",
            "passwd",
            "../../etc/passwd",
            "/../etc/passwd",
            absolute.as_str(),
            "inside\0",
        ] {
            assert_eq!(
                store.get(key).await,
                Err(KvError::UnknownKey(key.into())),
                "{key}"
            );
            assert_eq!(store.exists(key).await, Ok(None), "{key}");
        }
        let listed: Vec<String> = store
            .list("")
            .await
            .unwrap()
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(listed, ["dir", "inside"]);
    });
}

/// A tree with long names (so FAT gives them 8.3 aliases) and a private directory.
fn private_tree(dir: &Path) {
    std::fs::create_dir_all(dir.join("tls")).unwrap();
    std::fs::write(dir.join("tls/server.key"), "secret").unwrap();
    std::fs::create_dir_all(dir.join("certificates")).unwrap();
    std::fs::write(dir.join("certificates/private-key.pem"), "secret").unwrap();
}

/// Every spelling but the listed one names nothing: another case, or an 8.3 alias.
async fn only_exact_names<K: KvRo>(store: &K) {
    assert_eq!(store.get("tls/server.key").await.unwrap(), "secret");
    assert_eq!(
        store.get("certificates/private-key.pem").await.unwrap(),
        "secret"
    );
    for variant in [
        "TLS/server.key",
        "Tls/server.key",
        "tls/SERVER.KEY",
        "TLS/SERVER.KEY",
        "CERTIF~1/private-key.pem",
        "certif~1/private-key.pem",
        "certificates/PRIVAT~1.PEM",
        "Certificates/Private-Key.pem",
    ] {
        assert_eq!(
            store.get(variant).await,
            Err(KvError::UnknownKey(variant.into())),
            "{variant}"
        );
        assert_eq!(store.exists(variant).await, Ok(None), "{variant}");
        assert!(store.size(variant).await.is_err(), "{variant}");
        assert!(store.list(variant).await.is_err(), "{variant}");
    }
}

#[test]
fn keys_name_values_only_as_listed_in_every_store() {
    let dir = tempfile::tempdir().unwrap();
    private_tree(dir.path());
    run(async {
        only_exact_names(&DirectKv::connect(dir.path()).await.unwrap()).await;
        only_exact_names(&fat_of(dir.path()).await).await;
        let mem = mirage_kv::MemKv::new();
        mirage_types::KvRw::set(&mem, "tls/server.key", b"secret")
            .await
            .unwrap();
        mirage_types::KvRw::set(&mem, "certificates/private-key.pem", b"secret")
            .await
            .unwrap();
        only_exact_names(&mem).await;
    });
}

#[test]
fn fat_indexes_are_kept_by_listed_name_and_bounded() {
    let dir = tempfile::tempdir().unwrap();
    for n in 0..50 {
        let sub = dir.path().join(format!("directory-{n:02}"));
        std::fs::create_dir(&sub).unwrap();
        std::fs::write(sub.join("page.html"), format!("{n}")).unwrap();
    }
    run(async {
        let store = fat_of(dir.path()).await;
        assert_eq!(store.get("directory-07/page.html").await.unwrap(), "7");
        let kept = store.index_bytes();
        // Spellings FAT would take for the same directory list nothing more.
        for variant in 0..4096u32 {
            let spelt: String = "directory-07"
                .chars()
                .enumerate()
                .map(|(i, c)| {
                    if variant >> (i % 12) & 1 == 1 {
                        c.to_ascii_uppercase()
                    } else {
                        c
                    }
                })
                .collect();
            let key = format!("{spelt}/page.html");
            if spelt != "directory-07" {
                assert!(store.get(&key).await.is_err(), "{key}");
            }
        }
        assert_eq!(store.index_bytes(), kept);
        // A budget smaller than the directories: the oldest indexes go, lookups still work.
        let small = FsKv::with_index_bytes(store.fs(), 2048);
        for n in 0..50 {
            let key = format!("directory-{n:02}/page.html");
            assert_eq!(small.get(&key).await.unwrap(), n.to_string());
            assert!(small.index_bytes() <= 2048, "{}", small.index_bytes());
        }
        assert_eq!(small.get("directory-00/page.html").await.unwrap(), "0");
    });
}

/// Makes a FIFO at `path`.
fn fifo(path: &Path) {
    let c_path = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o644) }, 0);
}

#[test]
fn direct_never_hangs_on_a_fifo_and_long_keys_are_unknown() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a"), "value").unwrap();
    fifo(&dir.path().join("pipe"));
    run(async {
        let store = DirectKv::connect(dir.path()).await.unwrap();
        let waiting = std::time::Duration::from_secs(5);
        let read = tokio::time::timeout(waiting, store.get("pipe")).await;
        assert!(matches!(read, Ok(Err(KvError::UnknownKey(_)))), "{read:?}");
        assert_eq!(store.exists("pipe").await.unwrap(), None);
        let listed = store.list("").await.unwrap();
        assert_eq!(listed, [("a".to_string(), Entry::Value)]);
        let long = "k".repeat(300);
        assert_eq!(store.exists(&long).await.unwrap(), None);
        assert!(matches!(
            store.get(&long).await,
            Err(KvError::UnknownKey(_))
        ));
    });
}

#[test]
fn direct_follows_its_directory_when_it_is_made_again() {
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("site");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("a"), "old").unwrap();
    run(async {
        let store = DirectKv::connect(&dir).await.unwrap();
        assert_eq!(store.get("a").await.unwrap(), "old");
        std::fs::remove_dir_all(&dir).unwrap();
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("a"), "new").unwrap();
        assert_eq!(store.get("a").await.unwrap(), "new");
        assert_eq!(store.list("").await.unwrap().len(), 1);
    });
}
