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

/// 10 MiB through our Netfront both ways: dom0's `nc` sends random bytes to
/// `netfront_echo` (the direct stack on our Netfront in the domU) and gets them back
/// intact, through Linux's netback and dom0's bridge.
#[test]
fn ten_mib_echoed_through_our_netfront_against_linux_netback() {
    let Some((output, log)) = harness::run_case(
        "domu-netfront-echo-init",
        &[(
            "bin/netfront_echo",
            Path::new(env!("CARGO_BIN_EXE_netfront_echo")),
        )],
        &[],
        "dom0-netfront-echo.sh",
        "netfront-echo-serial.log",
    ) else {
        return;
    };
    let serial = format!("serial log: {}", log.display());
    let sent = harness::value(&output, "@@ sent-md5").expect("dom0 sent");
    assert_eq!(
        harness::value(&output, "@@ back-md5"),
        Some(format!("{sent} bytes=10485760").as_str()),
        "{serial}"
    );
    assert_eq!(
        harness::value(&output, "## echoed"),
        Some("10485760"),
        "{serial}"
    );
    if let Some((t0, t1)) =
        harness::value(&output, "@@ echo-seconds").and_then(|v| v.split_once(' '))
    {
        let seconds = t1.parse::<f64>().unwrap() - t0.parse::<f64>().unwrap();
        eprintln!("10 MiB echoed through our Netfront in {seconds:.1} s (TCG)");
    }
}
