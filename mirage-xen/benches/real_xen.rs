//! Linux's blkfront in a PV domU on a real Xen (under QEMU), against our Blkback (a dom0
//! process, `mirage-blkback`) and against Linux's own blkback, on images of the same size
//! in the same boot: 64 MiB sequential reads (caches dropped) and writes (fsync), five
//! interleaved rounds, medians. Then Linux's netfront with two links, one through Linux's
//! netback and one through our Netback (`mirage-netback`): 16 MiB TCP sends to dom0 through
//! each, five interleaved rounds, medians. Software emulation makes the absolute figures meaningless;
//! the ratio is our overhead. Last, TCP bulk from dom0 into our unikernel's direct stack over
//! our Netfront against the same into a Linux PV domU's netfront. And the static website
//! unikernel against nginx in a Linux PV domU serving the same files, under the host's
//! `wrk` in dom0. `cargo bench -p mirage-xen --bench real_xen` (root, QEMU; wrk and nginx
//! for the website); `-- blk`, `-- net`, `-- netfront`, `-- blkfront` or `-- website` runs
//! one case.

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
    if wanted("website") {
        website_against_nginx(&mut missing);
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

/// wrk's `Transfer/sec` (as `60.70MB`) in MiB/s.
fn mib_per_second(text: &str) -> Option<f64> {
    let split = text.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = text.split_at(split);
    let scale = match unit {
        "B" => 1.0 / (1024.0 * 1024.0),
        "KB" => 1.0 / 1024.0,
        "MB" => 1.0,
        "GB" => 1024.0,
        _ => return None,
    };
    Some(number.parse::<f64>().ok()? * scale)
}

/// The static website unikernel (HTTP, then HTTPS on its RustCrypto TLS) against nginx in a
/// Linux PV domU serving the same files, both on xenbr0 in one boot, under wrk in dom0: the
/// 612-byte page (requests/s) and the 6 MiB file (MiB/s), medians of three interleaved
/// rounds.
fn website_against_nginx(missing: &mut Vec<String>) {
    if harness::tools().is_err() {
        return;
    }
    let (wrk, nginx) = (Path::new("/usr/bin/wrk"), Path::new("/usr/sbin/nginx"));
    if !wrk.exists() || !nginx.exists() {
        missing
            .push("the website case needs wrk and nginx (apt-get install wrk nginx-light)".into());
        return;
    }
    let kernels = harness::build_kernels(&harness::root().join("examples/static_website/xen"), &[]);
    // The site as the unikernel has it compiled in: the build script's directory.
    let site = harness::website_site(&kernels);
    let mut domu: Vec<(String, std::path::PathBuf)> = vec![("nginx".into(), nginx.into())];
    for (library, path) in harness::with_libraries("nginx", nginx).into_iter().skip(1) {
        domu.push((format!("lib/x86_64-linux-gnu/{library}"), path));
    }
    let mut stack = vec![(String::new(), site.clone())];
    while let Some((prefix, dir)) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
            if entry.file_type().unwrap().is_dir() {
                stack.push((format!("{name}/"), entry.path()));
            } else {
                domu.push((format!("site/{name}"), entry.path()));
            }
        }
    }
    let configs = tempfile::tempdir().unwrap();
    let mut dom0 = harness::with_libraries("wrk", wrk);
    dom0.push((
        "mir-static_website.xen".into(),
        kernels.join("mir-static_website-xen"),
    ));
    for (name, keys) in [("bench-http", ""), ("bench-https", " --https true")] {
        let config = mirage_xen::xl::XlConfig::new(name, "/host/mir-static_website.xen")
            .memory(64)
            .bridge("xenbr0")
            .extra(format!(
                "--ip 169.254.100.3 --netmask 255.255.255.0 --gateways 169.254.100.1{keys}"
            ));
        let path = configs.path().join(format!("{name}.xl"));
        std::fs::write(&path, config.to_xl("The website benchmark's unikernel.")).unwrap();
        dom0.push((format!("{name}.xl"), path));
    }
    let domu: Vec<(&str, &Path)> = domu
        .iter()
        .map(|(n, p)| (n.as_str(), p.as_path()))
        .collect();
    let dom0: Vec<(&str, &Path)> = dom0
        .iter()
        .map(|(n, p)| (n.as_str(), p.as_path()))
        .collect();
    let Some((output, _log)) = harness::run_case(
        "domu-web-init",
        &domu,
        &dom0,
        "dom0-website-bench.sh",
        "website-bench-serial.log",
    ) else {
        return;
    };
    if !output.contains("@@ nginx-## NGINX-UP 612") {
        missing.push("nginx in the domU did not serve the page: see the output above".into());
    }
    for scheme in ["http", "https"] {
        for (case, field, unit) in [("small", 0, "requests/s"), ("large", 1, "MiB/s")] {
            let figures = |server: &str| -> Vec<f64> {
                harness::values(&output, &format!("@@ {scheme}-{case}-{server}"))
                    .iter()
                    .filter_map(|line| {
                        let value = line.split_whitespace().nth(field)?;
                        if field == 0 {
                            value.parse().ok()
                        } else {
                            mib_per_second(value)
                        }
                    })
                    .collect()
            };
            let (ours, nginx) = (figures("uk"), figures("lx"));
            if ours.len() != 3 || nginx.len() != 3 {
                missing.push(format!(
                    "{scheme} {case}: unikernel {ours:?}, nginx {nginx:?}"
                ));
                continue;
            }
            let (ours, nginx) = (median(ours), median(nginx));
            println!(
                "{scheme} {}: the unikernel {ours:.1} {unit}, nginx in a Linux PV domU {nginx:.1} \
                 {unit}, ratio {:.2}",
                if case == "small" {
                    "612-byte page"
                } else {
                    "6 MiB file"
                },
                ours / nginx
            );
        }
    }
}
