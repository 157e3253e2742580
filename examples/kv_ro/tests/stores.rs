//! `mir-kv_ro` says `YES!` over each store, FAT included after `make-fat1-image.sh`.

use std::path::Path;
use std::process::Command;

fn kv_ro(store: &str, dir: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_mir-kv_ro"))
        .args(["--kv-ro", store, "--count", "3"])
        .current_dir(dir)
        .output()
        .unwrap()
}

#[test]
fn every_store_says_yes() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let script = Command::new(here.join("make-fat1-image.sh"))
        .output()
        .unwrap();
    assert!(script.status.success(), "{script:?}");
    for store in ["crunch", "direct", "fat"] {
        let output = kv_ro(store, here);
        assert!(output.status.success(), "{store}: {output:?}");
        assert_eq!(
            String::from_utf8_lossy(&output.stdout),
            "YES!\nYES!\nYES!\n",
            "{store}"
        );
    }
}

#[test]
fn a_missing_image_says_how_to_make_it() {
    let empty = tempfile::tempdir().unwrap();
    let output = kv_ro("fat", empty.path());
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("make-fat1-image.sh"));
}
