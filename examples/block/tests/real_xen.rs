//! block_test on a real Xen: `mir-block_test --xen xvda` in a PV domU (nested under QEMU,
//! the workspace's `../shared/tools/xen-qemu`) drives the domain's disk through our own
//! userspace Blkfront, against Linux's xen-blkback in dom0, and prints the tutorial's ten
//! tests byte for byte; then `--conformance` runs the block conformance suite through the
//! same frontend on a second disk.
//!
//! Needs root and `qemu-system-x86_64`; without them the test says so and does nothing (a
//! skip, not a pass).

#[path = "../../../mirage-xen/tests/real_xen/harness.rs"]
mod harness;

use std::path::Path;

#[test]
fn block_test_over_our_blkfront_against_linux_blkback_prints_the_tutorial_output() {
    let Some((output, log)) = harness::run_case(
        "domu-block_test-init",
        &[(
            "bin/mir-block_test",
            Path::new(env!("CARGO_BIN_EXE_mir-block_test")),
        )],
        &[],
        "dom0-block_test.sh",
        "block_test-serial.log",
    ) else {
        return;
    };
    let printed: String = output
        .lines()
        .skip_while(|line| !line.starts_with("## BLOCK-TEST-BEGIN"))
        .skip(1)
        .take_while(|line| !line.starts_with("## BLOCK-TEST-END"))
        .map(|line| format!("{line}\n"))
        .collect();
    assert_eq!(
        printed,
        include_str!("tutorial_output.txt"),
        "serial log: {}",
        log.display()
    );
    assert_eq!(
        harness::value(&output, "## BLOCK-TEST-END rc"),
        Some("0"),
        "serial log: {}",
        log.display()
    );
    assert!(
        output
            .lines()
            .any(|line| line == "conformance suite: passed"),
        "the conformance suite over our Blkfront (serial log: {})",
        log.display()
    );
    assert_eq!(
        harness::value(&output, "## CONFORMANCE rc"),
        Some("0"),
        "serial log: {}",
        log.display()
    );
}
