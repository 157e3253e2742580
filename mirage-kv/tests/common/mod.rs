//! What the tests against the real `mkfs.fat` and mtools share.

use std::path::Path;
use std::process::Command;

/// Whether `tool` is installed; if not, says that the test skips.
pub fn have(tool: &str) -> bool {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        eprintln!("skipped: {tool} is not installed (dosfstools, mtools)");
    }
    found
}

/// Runs `script` with `sh` in `dir` (mtools' drive checks off); it must succeed.
pub fn sh(script: &str, dir: &Path) {
    let output = Command::new("sh")
        .arg("-c")
        .arg(script)
        .current_dir(dir)
        .env("MTOOLS_SKIP_CHECK", "1")
        .output()
        .unwrap();
    assert!(output.status.success(), "{script}: {output:?}");
}
