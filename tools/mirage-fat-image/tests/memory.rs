//! The tool streams: imaging a file holds a bounded part of it in memory, whatever its size
//! (measured as the peak resident memory of the tool's own process).

use std::process::Command;

#[test]
fn a_large_file_is_imaged_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("site");
    std::fs::create_dir(&source).unwrap();
    let size: u64 = 256 << 20;
    let large = std::fs::File::create(source.join("large.bin")).unwrap();
    large.set_len(size).unwrap();
    std::fs::write(source.join("index.html"), "<p>hello</p>").unwrap();
    let image = dir.path().join("site.img");
    let status = Command::new(env!("CARGO_BIN_EXE_mirage-fat-image"))
        .arg(&source)
        .arg(&image)
        .status()
        .unwrap();
    assert!(status.success());
    assert!(std::fs::metadata(&image).unwrap().len() > size);
    // The only child this test binary runs: its peak is the tool's.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: writes the struct it is given.
    assert_eq!(
        unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) },
        0
    );
    let peak_kib = usage.ru_maxrss as u64;
    assert!(
        peak_kib < 160 * 1024,
        "imaging a {} MiB file peaked at {peak_kib} KiB",
        size >> 20
    );
    // And the image holds the file: read it back through the store.
    let read = mirage_unix::run(async {
        use mirage_types::KvRo;
        let block = mirage_block::FileBlock::connect(&image).await.unwrap();
        let fs = mirage_kv::FatFs::connect(block).await.unwrap();
        let store = mirage_kv::FsKv::new(fs);
        (
            store.size("large.bin").await.unwrap(),
            store.read("large.bin", size - 10, 10).await.unwrap(),
        )
    });
    assert_eq!(read.0, size);
    assert_eq!(&read.1[..], &[0u8; 10]);
}
