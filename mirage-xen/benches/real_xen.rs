//! Linux's blkfront in a PV domU on a real Xen (under QEMU), against our Blkback (a dom0
//! process, `mirage-blkback`) and against Linux's own blkback, on images of the same size
//! in the same boot: 64 MiB sequential reads (caches dropped) and writes (fsync), five
//! interleaved rounds, medians. Then Linux's netfront with two links, one through Linux's
//! netback and one through our Netback (`mirage-netback`): 16 MiB TCP sends to dom0 through
//! each, five interleaved rounds, medians. Software emulation makes the absolute figures meaningless;
//! the ratio is our overhead. `cargo bench -p mirage-xen --bench real_xen` (root, QEMU).

#[path = "../tests/real_xen/harness.rs"]
mod harness;

use std::path::Path;

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(|a, b| a.partial_cmp(b).unwrap());
    values[values.len() / 2]
}

/// The medians of `key-linux_dev` and `key-our_dev` seconds, or why there are none.
fn medians(output: &str, key: &str, linux: &str, ours: &str) -> Result<(f64, f64), String> {
    let seconds = |dev: &str| -> Vec<f64> {
        harness::values(output, &format!("## {key}-{dev}"))
            .iter()
            .filter_map(|v| v.parse().ok())
            .collect()
    };
    let (linux, ours) = (seconds(linux), seconds(ours));
    if linux.is_empty() || ours.is_empty() {
        return Err(format!("no {key} figures: see the output above"));
    }
    Ok((median(linux), median(ours)))
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not: run only when asked.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let mut missing = Vec::new();
    if let Some((output, _log)) = harness::run_case(
        "domu-bench-init",
        &[],
        &[(
            "mirage-blkback",
            Path::new(env!("CARGO_BIN_EXE_mirage-blkback")),
        )],
        "dom0-blk-bench.sh",
        "bench-serial.log",
    ) {
        for operation in ["read", "write"] {
            match medians(&output, operation, "xvda", "xvdb") {
                Ok((linux, ours)) => println!(
                    "64 MiB {operation}s through Linux's blkfront: Linux's blkback {:.1} MB/s, \
                     our Blkback {:.1} MB/s, ratio {:.2}",
                    67.108864 / linux,
                    67.108864 / ours,
                    linux / ours
                ),
                Err(why) => missing.push(why),
            }
        }
    }
    if let Some((output, _log)) = harness::run_case(
        "domu-net-bench-init",
        &[],
        &[(
            "mirage-netback",
            Path::new(env!("CARGO_BIN_EXE_mirage-netback")),
        )],
        "dom0-net-bench.sh",
        "net-bench-serial.log",
    ) {
        // Every timed transfer (after a small one first) must have arrived whole, and every
        // send must have succeeded: five of 16 MiB through each link.
        for port in ["7000", "7001"] {
            let received = harness::values(&output, &format!("@@ got-{port}"));
            if received
                != [
                    "5", "16777216", "16777216", "16777216", "16777216", "16777216",
                ]
            {
                missing.push(format!("port {port} received {received:?} bytes"));
            }
        }
        let failed: Vec<&str> = output.lines().filter(|l| l.contains("## nc-")).collect();
        if !failed.is_empty() {
            missing.push(format!("sends failed: {failed:?}"));
        }
        match medians(&output, "send", "eth0", "eth1") {
            Ok((linux, ours)) => println!(
                "16 MiB TCP sends through Linux's netfront: Linux's netback {:.1} Mbit/s, our \
                 Netback {:.1} Mbit/s, ratio {:.2}",
                134.217728 / linux,
                134.217728 / ours,
                linux / ours
            ),
            Err(why) => missing.push(why),
        }
    }
    assert!(missing.is_empty(), "{missing:?}");
}
