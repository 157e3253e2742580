//! Linux's blkfront in a PV domU on a real Xen (under QEMU), against our Blkback (a dom0
//! process, `mirage-blkback`) and against Linux's own blkback, on images of the same size
//! in the same boot: 64 MiB sequential reads (caches dropped) and writes (fsync), five
//! interleaved rounds, medians. Software emulation makes the absolute figures meaningless;
//! the ratio is our overhead. `cargo bench -p mirage-xen --bench real_xen` (root, QEMU).

#[path = "../tests/real_xen/harness.rs"]
mod harness;

use std::path::Path;

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(|a, b| a.partial_cmp(b).unwrap());
    values[values.len() / 2]
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not: run only when asked.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let Some((output, _log)) = harness::run_case(
        "domu-bench-init",
        &[],
        &[(
            "mirage-blkback",
            Path::new(env!("CARGO_BIN_EXE_mirage-blkback")),
        )],
        "dom0-blk-bench.sh",
        "bench-serial.log",
    ) else {
        return;
    };
    let seconds = |key: &str| -> Vec<f64> {
        harness::values(&output, key)
            .iter()
            .filter_map(|v| v.parse().ok())
            .collect()
    };
    for operation in ["read", "write"] {
        let linux = seconds(&format!("## {operation}-xvda"));
        let ours = seconds(&format!("## {operation}-xvdb"));
        if linux.is_empty() || ours.is_empty() {
            println!("{output}");
            panic!("no {operation} figures: see the output above");
        }
        let (linux, ours) = (median(linux), median(ours));
        println!(
            "64 MiB {operation}s through Linux's blkfront: Linux's blkback {:.1} MB/s, our \
             Blkback {:.1} MB/s, ratio {:.2}",
            67.108864 / linux,
            67.108864 / ours,
            linux / ours
        );
    }
}
