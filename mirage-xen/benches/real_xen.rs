//! Linux's blkfront in a PV domU on a real Xen (under QEMU), against our Blkback (a dom0
//! process, `mirage-blkback`) and against Linux's own blkback, on images of the same size
//! in the same boot: 64 MiB sequential reads (caches dropped) and writes (fsync), five
//! interleaved rounds, medians. Then Linux's netfront with two links, one through Linux's
//! netback and one through our Netback (`mirage-netback`): 16 MiB TCP sends to dom0 through
//! each, five interleaved rounds, medians. Software emulation makes the absolute figures meaningless;
//! the ratio is our overhead. Last, TCP bulk from dom0 into our unikernel's direct stack over
//! our Netfront against the same into a Linux PV domU's netfront. `cargo bench -p mirage-xen
//! --bench real_xen` (root, QEMU); `-- blk`, `-- net` or `-- netfront` runs one case.

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
    // `-- blk`, `-- net` or `-- netfront` runs that case alone.
    let only = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let wanted = |case: &str| only.as_deref().is_none_or(|only| only == case);
    let mut missing = Vec::new();
    if wanted("blk")
        && let Some((output, _log)) = harness::run_case(
            "domu-bench-init",
            &[],
            &[(
                "mirage-blkback",
                Path::new(env!("CARGO_BIN_EXE_mirage-blkback")),
            )],
            "dom0-blk-bench.sh",
            "bench-serial.log",
        )
    {
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
    if wanted("net")
        && let Some((output, _log)) = harness::run_case(
            "domu-net-bench-init",
            &[],
            &[(
                "mirage-netback",
                Path::new(env!("CARGO_BIN_EXE_mirage-netback")),
            )],
            "dom0-net-bench.sh",
            "net-bench-serial.log",
        )
    {
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
    if wanted("netfront") {
        netfront_into_a_unikernel(&mut missing);
    }
    if wanted("blkfront") {
        blkfront_reads_in_a_unikernel(&mut missing);
    }
    assert!(missing.is_empty(), "{missing:?}");
}

/// Sequential reads of a 64 MiB disk through our unikernel's Blkfront (the `blk_read` test
/// kernel) against a Linux PV domU's `dd iflag=direct` through Linux's blkfront, both of
/// dom0's kernel blkback, in one boot; and the unikernel's allocations per read.
fn blkfront_reads_in_a_unikernel(missing: &mut Vec<String>) {
    if harness::tools().is_err() {
        return;
    }
    let kernels = harness::build_kernels(&harness::root().join("mirage-xen/pv"), &["--examples"]);
    let configs = tempfile::tempdir().unwrap();
    let config = configs.path().join("blkread.xl");
    let xl = mirage_xen::xl::XlConfig::new("blkread", "/host/blk_read.xen")
        .memory(32)
        .disk("/tmp/br.img")
        .extra("5");
    std::fs::write(&config, xl.to_xl("The blkfront benchmark's reader.")).unwrap();
    let kernel = kernels.join("examples/blk_read");
    let Some((output, _log)) = harness::run_case(
        "domu-blkread-init",
        &[],
        &[("blk_read.xen", &kernel), ("blkread.xl", &config)],
        "dom0-blkfront-bench.sh",
        "blkfront-bench-serial.log",
    ) else {
        return;
    };
    let lines = harness::values(&output, "@@ blkread-console");
    let ours: Vec<f64> = lines
        .iter()
        .filter_map(|line| line.strip_prefix("read: 67108864 bytes in "))
        .filter_map(|rest| rest.split(' ').next()?.parse::<f64>().ok())
        .map(|ms| ms / 1000.0)
        .collect();
    let linux: Vec<f64> = harness::values(&output, "## read-linux")
        .iter()
        .filter_map(|v| v.parse().ok())
        .collect();
    if ours.len() != 5 || linux.len() != 5 {
        missing.push(format!("blkfront reads: ours {lines:?}, Linux {linux:?}"));
        return;
    }
    let (ours, linux) = (median(ours), median(linux));
    println!(
        "64 MiB sequential reads through blkfront: a Linux PV domU (dd iflag=direct) {:.1} MB/s, \
         our unikernel's Blkfront {:.1} MB/s, ratio {:.2}",
        67.108864 / linux,
        67.108864 / ours,
        linux / ours
    );
    for line in lines {
        println!("unikernel {line}");
    }
}

/// TCP bulk from dom0 into our unikernel's direct stack over our Netfront (the `tcp_sink`
/// test kernel) against the same into a Linux PV domU's netfront, both on xenbr0 in one
/// boot; and the unikernel's heap allocations per received frame.
fn netfront_into_a_unikernel(missing: &mut Vec<String>) {
    if harness::tools().is_err() {
        return;
    }
    let kernels = harness::build_kernels(&harness::root().join("mirage-xen/pv"), &["--examples"]);
    let configs = tempfile::tempdir().unwrap();
    let sink = configs.path().join("sink.xl");
    let config = mirage_xen::xl::XlConfig::new("sink", "/host/tcp_sink.xen")
        .memory(64)
        .bridge("xenbr0")
        .extra("169.254.100.2 5001 6");
    std::fs::write(&sink, config.to_xl("The netfront benchmark's sink.")).unwrap();
    let mut dom0: Vec<(String, std::path::PathBuf)> =
        harness::with_libraries("nc", Path::new("/usr/bin/nc.openbsd"));
    dom0.push(("tcp_sink.xen".into(), kernels.join("examples/tcp_sink")));
    dom0.push(("sink.xl".into(), sink));
    let dom0: Vec<(&str, &Path)> = dom0
        .iter()
        .map(|(n, p)| (n.as_str(), p.as_path()))
        .collect();
    let Some((output, _log)) = harness::run_case(
        "domu-sink-init",
        &[],
        &dom0,
        "dom0-netfront-bench.sh",
        "netfront-bench-serial.log",
    ) else {
        return;
    };
    let failed: Vec<&str> = output.lines().filter(|l| l.contains("@@ nc-")).collect();
    if !failed.is_empty() {
        missing.push(format!("sends failed: {failed:?}"));
    }
    // Each of the five timed connections must have come whole into the unikernel.
    let sink_lines = harness::values(&output, "@@ sink-console");
    let whole = sink_lines
        .iter()
        .filter(|line| line.starts_with("sink: 33554432 bytes"))
        .count();
    if whole != 5 {
        missing.push(format!("the unikernel received: {sink_lines:?}"));
    }
    match medians(&output, "recv", "lx", "uk") {
        Ok((linux, ours)) => println!(
            "32 MiB TCP from dom0 over netfront: into a Linux PV domU {:.1} Mbit/s, into our \
             unikernel's direct stack over our Netfront {:.1} Mbit/s, ratio {:.2}",
            268.435456 / linux,
            268.435456 / ours,
            linux / ours
        ),
        Err(why) => missing.push(why),
    }
    for line in sink_lines {
        println!("unikernel {line}");
    }
}
