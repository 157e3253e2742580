//! The `mirage-xl` tool writes the tutorial examples' configurations.

use std::process::Command;

#[test]
fn block_test_gets_its_disk_and_stackv4_its_bridge() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["block_test", "stackv4"] {
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
}
