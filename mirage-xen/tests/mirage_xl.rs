//! The `mirage-xl` tool writes the tutorial examples' configurations.

use std::process::Command;

#[test]
fn block_test_gets_its_disk_and_the_network_examples_their_bridge() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["block_test", "stackv4", "static_website"] {
        let status = Command::new(env!("CARGO_BIN_EXE_mirage-xl"))
            .args([name, "--out"])
            .arg(dir.path())
            .status()
            .unwrap();
        assert!(status.success());
    }
    let block = std::fs::read_to_string(dir.path().join("block_test.xl")).unwrap();
    assert!(block.contains("name = 'block_test'\n"));
    assert!(block.contains("type = 'pv'\n"));
    assert!(block.contains(&format!(
        "disk = [ 'format=raw, vdev=xvda, access=rw, target={}' ]",
        dir.path().join("disk.img").display()
    )));
    let template = std::fs::read_to_string(dir.path().join("block_test.xl.in")).unwrap();
    assert!(template.contains("target=@BLOCK:disk.img@"));
    let stack = std::fs::read_to_string(dir.path().join("stackv4.xl")).unwrap();
    assert!(stack.contains("vif = [ 'bridge=xenbr0' ]"));
    assert!(stack.contains("disk = [  ]"));
    let website = std::fs::read_to_string(dir.path().join("static_website.xl")).unwrap();
    assert!(website.contains("vif = [ 'bridge=xenbr0' ]"));
}

/// Runs `mirage-xl` with `args`; its exit success and what it said on stderr.
fn xl(args: &[&str]) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_mirage-xl"))
        .args(args)
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn names_that_are_paths_and_values_xl_would_misread_are_refused() {
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let out_arg = out.to_str().unwrap();
    for (args, said) in [
        (vec!["../escaped", "--out", out_arg], "domain name"),
        (vec!["/tmp/abs", "--out", out_arg], "domain name"),
        (
            vec!["ok", "--out", out_arg, "--disk", "x', target=/etc/shadow"],
            "disk",
        ),
        (
            vec!["ok", "--out", out_arg, "--bridge", "br0,script=/tmp/evil"],
            "bridge",
        ),
        (vec!["ok", "--out", out_arg, "--memory", "0"], "--memory"),
        (
            vec!["ok", "--out", out_arg, "--at", "relative/dir"],
            "absolute",
        ),
    ] {
        let (ok, stderr) = xl(&args);
        assert!(!ok, "{args:?} was accepted");
        assert!(stderr.contains(said), "{args:?}: {stderr}");
    }
    // Nothing was written, inside --out or beside it.
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 0);
    assert_eq!(std::fs::read_dir(root.path()).unwrap().count(), 1);
}

#[test]
fn an_image_for_another_host_names_the_directory_it_will_be_in_there() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, stderr) = xl(&[
        "kv_ro",
        "--out",
        dir.path().to_str().unwrap(),
        "--at",
        "/srv/mirage",
    ]);
    assert!(ok, "{stderr}");
    let written = std::fs::read_to_string(dir.path().join("kv_ro.xl")).unwrap();
    assert!(
        written.contains("kernel = '/srv/mirage/mir-kv_ro.xen'\n"),
        "{written}"
    );
    assert!(
        written.contains("target=/srv/mirage/fat1.img'"),
        "{written}"
    );
}
