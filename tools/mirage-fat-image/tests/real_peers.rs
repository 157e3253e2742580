//! The images pass `fsck.fat`, list with `mdir`, read back with `mtype`, and `file` knows
//! them.

use std::path::Path;
use std::process::Command;

fn tool(name: &str) -> bool {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {name}"))
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        eprintln!("skipped: {name} is not installed");
    }
    found
}

fn output(dir: &Path, program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .env("MTOOLS_SKIP_CHECK", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{program} {args:?}: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn built_images_satisfy_fsck_mtools_and_file() {
    if !tool("fsck.fat") || !tool("mdir") || !tool("file") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("t");
    std::fs::create_dir_all(tree.join("Nested dir/inner")).unwrap();
    std::fs::write(tree.join("a"), "foo\n").unwrap();
    std::fs::write(tree.join("b"), "bar\n").unwrap();
    std::fs::write(tree.join("empty"), "").unwrap();
    std::fs::write(
        tree.join("Nested dir/a much longer name.data"),
        vec![9u8; 70_000],
    )
    .unwrap();
    std::fs::write(tree.join("Nested dir/inner/z"), "z\n").unwrap();
    let status = Command::new(env!("CARGO_BIN_EXE_mirage-fat-image"))
        .args(["t", "fat1.img"])
        .current_dir(dir.path())
        .status()
        .unwrap();
    assert!(status.success());

    output(dir.path(), "fsck.fat", &["-n", "fat1.img"]);
    let described = output(dir.path(), "file", &["fat1.img"]);
    assert!(
        described.contains("x86 boot sector") || described.contains("DOS/MBR boot sector"),
        "{described}"
    );
    let listing = output(dir.path(), "mdir", &["-b", "-/", "-i", "fat1.img", "::"]);
    for path in [
        "::/a",
        "::/b",
        "::/empty",
        "::/Nested dir/a much longer name.data",
        "::/Nested dir/inner/z",
    ] {
        assert!(
            listing.lines().any(|line| line == path),
            "{path} not in {listing}"
        );
    }
    assert_eq!(
        output(dir.path(), "mtype", &["-i", "fat1.img", "::/a"]),
        "foo\n"
    );
    let size = std::fs::metadata(dir.path().join("fat1.img"))
        .unwrap()
        .len();
    assert!(
        size < 2 << 20,
        "an image of 80 KB of files should be small, is {size}"
    );
}

#[test]
fn a_missing_directory_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_mirage-fat-image"))
        .args(["nowhere", "x.img"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("nowhere"));
}
