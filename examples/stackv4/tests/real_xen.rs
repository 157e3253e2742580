//! stackv4 on a real Xen: `mir-stackv4 --net direct --xen-vif 0` in a PV domU (nested
//! under QEMU, the workspace's `../shared/tools/xen-qemu`) runs the direct stack on our own
//! userspace Netfront, against Linux's xen-netback on dom0's bridge; dom0 pings it and its
//! `nc` line prints the tutorial's output (dom0's busybox `nc` has no UDP; the UDP line is
//! checked over a tap device in `direct_netns.rs`).
//!
//! Needs root and `qemu-system-x86_64`; without them the test says so and does nothing (a
//! skip, not a pass).

#[path = "../../../mirage-xen/tests/real_xen/harness.rs"]
mod harness;

use std::path::Path;

#[test]
fn stackv4_over_our_netfront_against_linux_netback_answers_dom0() {
    let Some((output, log)) = harness::run_case(
        "domu-stackv4-init",
        &[(
            "bin/mir-stackv4",
            Path::new(env!("CARGO_BIN_EXE_mir-stackv4")),
        )],
        &[],
        "dom0-stackv4.sh",
        "stackv4-serial.log",
    ) else {
        return;
    };
    let lines: Vec<&str> = output.lines().collect();
    let has = |wanted: &str| lines.iter().any(|line| line.trim_end() == wanted);
    assert!(
        has("IP address: 169.254.100.2"),
        "serial log: {}",
        log.display()
    );
    assert_eq!(
        harness::value(&output, "@@ ping"),
        Some("3 packets transmitted, 3 packets received"),
        "serial log: {}",
        log.display()
    );
    // dom0's busybox nc picks its own source port.
    assert!(
        lines
            .iter()
            .any(|line| line.starts_with("TCP 169.254.100.1:")
                && line.trim_end().ends_with(" > _:8080")),
        "serial log: {}",
        log.display()
    );
    assert!(
        has("read: 15 \"hello tcp world\""),
        "serial log: {}",
        log.display()
    );
}
