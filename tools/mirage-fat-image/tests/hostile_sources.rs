//! Source directories that would hang or corrupt an image are refused with an error that
//! names the file at fault; errors about the image name the image.

use std::path::{Path, PathBuf};
use std::sync::mpsc::channel;
use std::time::Duration;

/// Builds an image of `dir` on another thread, failing the test if it takes over 10 s.
fn build(dir: &Path, image: &Path) -> Result<u64, String> {
    let (dir, image): (PathBuf, PathBuf) = (dir.into(), image.into());
    let (sender, result) = channel();
    std::thread::spawn(move || {
        let built = mirage_unix::run(mirage_fat_image::build(&dir, &image));
        let _ = sender.send(built.map_err(|e| e.to_string()));
    });
    result
        .recv_timeout(Duration::from_secs(10))
        .expect("mirage-fat-image hung")
}

fn source() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("src")).unwrap();
    std::fs::write(dir.path().join("src/ok"), "fine").unwrap();
    dir
}

#[test]
fn a_fifo_is_refused_not_waited_on() {
    let dir = source();
    let pipe = dir.path().join("src/pipe");
    let c_path = std::ffi::CString::new(pipe.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o644) }, 0);
    let error = build(&dir.path().join("src"), &dir.path().join("out.img")).unwrap_err();
    assert!(
        error.contains("pipe") && error.contains("not a regular file"),
        "{error}"
    );
}

#[test]
fn a_link_to_a_device_is_refused_not_read_forever() {
    let dir = source();
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("src/zero")).unwrap();
    let error = build(&dir.path().join("src"), &dir.path().join("out.img")).unwrap_err();
    assert!(
        error.contains("zero") && error.contains("not a regular file"),
        "{error}"
    );
}

#[test]
fn names_that_differ_only_in_case_are_refused() {
    let dir = source();
    std::fs::write(dir.path().join("src/Readme"), "one").unwrap();
    std::fs::write(dir.path().join("src/README"), "two").unwrap();
    let error = build(&dir.path().join("src"), &dir.path().join("out.img")).unwrap_err();
    assert!(
        error.contains("Readme") && error.contains("README") && error.contains("case"),
        "{error}"
    );
}

#[test]
fn an_image_path_that_cannot_be_written_is_named() {
    let dir = source();
    let image = dir.path().join("no such dir/out.img");
    let error = build(&dir.path().join("src"), &image).unwrap_err();
    assert!(error.contains("no such dir/out.img"), "{error}");
}
