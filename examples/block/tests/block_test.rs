//! `mir-block_test` run as a process on real image files.

use std::path::Path;
use std::process::{Command, Output};

const TUTORIAL_OUTPUT: &str = include_str!("tutorial_output.txt");

fn block_test(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mir-block_test"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

#[test]
fn the_tutorial_disk_gives_the_tutorial_output() {
    let dir = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("generate_disk_img.sh");
    let made = Command::new("sh")
        .arg(script)
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(made.status.success(), "{made:?}");
    assert_eq!(
        std::fs::metadata(dir.path().join("disk.img"))
            .unwrap()
            .len(),
        51_200_000
    );

    let output = block_test(dir.path(), &[]);
    assert_eq!(String::from_utf8_lossy(&output.stdout), TUTORIAL_OUTPUT);
    assert!(output.status.success(), "{output:?}");
}

#[test]
fn other_sizes_pass_with_their_own_numbers() {
    let dir = tempfile::tempdir().unwrap();
    for sectors in [12u64, 13, 2049] {
        let path = dir.path().join(format!("{sectors}.img"));
        std::fs::File::create(&path)
            .unwrap()
            .set_len(sectors * 512)
            .unwrap();
        let output = block_test(dir.path(), &["--disk", path.to_str().unwrap()]);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{output:?}");
        assert!(
            stdout.starts_with(&format!("sectors = {sectors}\n")),
            "{stdout}"
        );
        assert!(stdout.contains(&format!("writing 12 sectors at {}\n", sectors - 12)));
        assert!(stdout.contains(&format!("reading 12 sectors at {}\n", sectors - 11)));
        assert!(stdout.ends_with("Total tests passed:  10\nTotal tests failed:  0\n"));
    }
}

#[test]
fn a_missing_disk_says_how_to_make_one() {
    let dir = tempfile::tempdir().unwrap();
    let output = block_test(dir.path(), &[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("generate_disk_img.sh"), "{stderr}");
}

#[test]
fn a_disk_too_small_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::File::create(dir.path().join("disk.img"))
        .unwrap()
        .set_len(11 * 512)
        .unwrap();
    let output = block_test(dir.path(), &[]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("at least 12"));
}

#[test]
fn a_disk_in_a_directory_that_cannot_be_entered_is_permission_denied_not_missing() {
    // Root enters any directory: run the binary as nobody, where the checks apply.
    if unsafe { libc::geteuid() } != 0 || !Path::new("/usr/bin/setpriv").exists() {
        eprintln!("skipped: needs root and setpriv (util-linux) to run as another user");
        return;
    }
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let locked = dir.path().join("locked");
    std::fs::create_dir(&locked).unwrap();
    std::fs::write(locked.join("disk.img"), vec![0u8; 512 * 100]).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    let output = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(env!("CARGO_BIN_EXE_mir-block_test"))
        .arg("--disk")
        .arg(locked.join("disk.img"))
        .output()
        .unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("Permission denied"), "{stderr}");
    assert!(!stderr.contains("not found"), "{stderr}");
}

#[test]
fn conformance_runs_the_suite_on_writable_and_read_only_disks() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::File::create(dir.path().join("disk.img"))
        .unwrap()
        .set_len(20_000 * 512)
        .unwrap();
    let output = block_test(dir.path(), &["--conformance"]);
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "conformance suite: passed\n"
    );
    assert!(output.status.success(), "{output:?}");
    // A read-only image gets the read-only checks.
    let image = dir.path().join("disk.img");
    let mut permissions = std::fs::metadata(&image).unwrap().permissions();
    permissions.set_readonly(true);
    std::fs::set_permissions(&image, permissions).unwrap();
    // Root ignores the mode bits: make it immutable instead where that works.
    let immutable = Command::new("chattr").arg("+i").arg(&image).status();
    let read_only = unsafe { libc::geteuid() } != 0 || immutable.is_ok_and(|s| s.success());
    if read_only {
        let output = block_test(dir.path(), &["--conformance"]);
        let _ = Command::new("chattr").arg("-i").arg(&image).status();
        assert!(output.status.success(), "{output:?}");
        assert_eq!(
            String::from_utf8_lossy(&output.stdout),
            "conformance suite: passed\n"
        );
    }
}
