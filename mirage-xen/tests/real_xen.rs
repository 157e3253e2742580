//! On a real Xen: Xen 4.17 with a PV Linux dom0 and a PV domU, nested under QEMU (the
//! workspace's `../shared/tools/xen-qemu`). Linux's own xen-blkfront in the domU drives a
//! disk served by `mirage-blkback` (our `Blkback<FileBlock>` over the Linux platform:
//! `/dev/xen/gntdev`, `/dev/xen/evtchn`, xenstored's socket) in a dom0 process; 16 MiB
//! written by the domU come back to it and are in the image file in dom0, and the pattern
//! dom0 wrote first reaches the domU.
//!
//! Needs root and `qemu-system-x86_64` (`.ci/run` installs it); the images are built once
//! into the target directory. Where either is missing the test says so and does nothing:
//! that is a skip, not a pass.

#[path = "real_xen/harness.rs"]
mod harness;

use harness::{run_case, value};
use std::path::Path;

#[test]
fn linux_blkfront_in_a_domu_against_our_blkback_in_dom0() {
    let Some((stdout, log)) = run_case(
        "domu-init",
        &[],
        &[
            (
                "mirage-blkback",
                Path::new(env!("CARGO_BIN_EXE_mirage-blkback")),
            ),
            ("mirage-xl", Path::new(env!("CARGO_BIN_EXE_mirage-xl"))),
        ],
        "dom0-blk.sh",
        "blk-serial.log",
    ) else {
        return;
    };
    let report = |case: &str, ok: bool| {
        println!("real Xen: {case}: {}", if ok { "PASS" } else { "FAIL" });
        ok
    };
    let dom0_pattern = value(&stdout, "@@ dom0-pattern-md5");
    let seen_by_domu = value(&stdout, "## dom0-pattern-md5");
    let written = value(&stdout, "## written-md5");
    let read_back = value(&stdout, "## readback-md5");
    let in_image = value(&stdout, "@@ image-md5");
    let results = [
        report(
            "the domU's blkfront sees 20 MiB",
            value(&stdout, "## sectors") == Some("40960"),
        ),
        report(
            "what dom0 wrote reaches the domU through Blkback",
            dom0_pattern.is_some() && dom0_pattern == seen_by_domu,
        ),
        report(
            "16 MiB written by the domU read back intact",
            written.is_some() && written == read_back,
        ),
        report(
            "16 MiB written by the domU are in dom0's image file",
            written.is_some() && written == in_image,
        ),
        report(
            "SIGTERM stops the backend cleanly (exit 0), leaving no store nodes",
            value(&stdout, "@@ backend-exit") == Some("0")
                && value(&stdout, "@@ store-after-stop") == Some("0"),
        ),
        report(
            "the guest's reads fail, not hang, once the backend stopped",
            value(&stdout, "## io-after-stop") == Some("failed"),
        ),
        report(
            "xl create -n takes every pv and pvh .xl mirage-xl writes (5 examples each)",
            stdout
                .lines()
                .filter(|l| {
                    (l.starts_with("@@ xl-n-pv-") || l.starts_with("@@ xl-n-pvh-"))
                        && l.ends_with("=ok")
                })
                .count()
                == 10,
        ),
        // The seed's legacy form (`builder = 'linux'`) is for Xen before 4.10: today's xl
        // refuses it, as the README says.
        report(
            "xl 4.17 refuses the legacy form (builder = 'linux')",
            stdout
                .lines()
                .filter(|l| l.starts_with("@@ xl-n-legacy-") && l.contains("Invalid domain type"))
                .count()
                == 5,
        ),
    ];
    assert!(
        results.iter().all(|ok| *ok),
        "real Xen cases failed (serial log: {})",
        log.display()
    );
}

#[test]
fn linux_netfront_in_a_domu_against_our_netback_in_dom0() {
    let Some((stdout, log)) = run_case(
        "domu-net-init",
        &[],
        &[(
            "mirage-netback",
            Path::new(env!("CARGO_BIN_EXE_mirage-netback")),
        )],
        "dom0-net.sh",
        "net-serial.log",
    ) else {
        return;
    };
    let report = |case: &str, ok: bool| {
        println!("real Xen: {case}: {}", if ok { "PASS" } else { "FAIL" });
        ok
    };
    let sent = value(&stdout, "## sent-md5");
    let received = value(&stdout, "@@ received-md5").and_then(|v| v.split(' ').next());
    let results = [
        report(
            "the domU's netfront has the MAC our backend gave it",
            value(&stdout, "## mac") == Some("00:16:3e:00:00:02"),
        ),
        report(
            "the domU pings dom0 through Netback and the tap",
            value(&stdout, "## ping-dom0") == Some("ok"),
        ),
        report(
            "dom0 pings the domU",
            value(&stdout, "@@ ping-domu") == Some("ok"),
        ),
        report(
            "4 MiB over TCP from the domU arrive intact in dom0",
            sent.is_some() && sent == received,
        ),
        report(
            "the backend stops cleanly when the interface goes",
            value(&stdout, "@@ backend-exit") == Some("0"),
        ),
    ];
    assert!(
        results.iter().all(|ok| *ok),
        "real Xen cases failed (serial log: {})",
        log.display()
    );
}
