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

use std::path::{Path, PathBuf};
use std::process::Command;

/// The xen-qemu tools, or why the test cannot run here.
fn tools() -> Result<PathBuf, String> {
    let tools = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/tools/xen-qemu");
    let tools = std::env::var_os("XEN_QEMU_TOOLS").map_or(tools, PathBuf::from);
    if !tools.join("boot.sh").exists() {
        return Err(format!("no xen-qemu tools at {}", tools.display()));
    }
    // SAFETY: a plain getter.
    if unsafe { libc::geteuid() } != 0 {
        return Err("not root (building the images needs apt-get download as root)".into());
    }
    let qemu = Command::new("sh")
        .args(["-c", "command -v qemu-system-x86_64"])
        .output()
        .map_err(|e| e.to_string())?;
    if !qemu.status.success() {
        return Err("qemu-system-x86_64 is not installed (see the xen-qemu README)".into());
    }
    Ok(tools)
}

/// Builds (once) the images under the target directory.
fn images(tools: &Path) -> PathBuf {
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("xen-qemu");
    if !out.join("domu.cpio.gz").exists() {
        let status = Command::new(tools.join("build.sh"))
            .arg(&out)
            .status()
            .expect("build.sh runs");
        assert!(status.success(), "build.sh failed");
    }
    out
}

/// A `newc` cpio archive of `files` (name, mode, contents), as Linux's initramfs reads.
fn cpio(files: &[(&str, u32, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut entry = |ino: usize, name: &str, mode: u32, data: &[u8]| {
        let header = format!(
            "070701{ino:08x}{mode:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}",
            0,
            0,
            1,
            0,
            data.len(),
            0,
            0,
            0,
            0,
            name.len() + 1,
            0
        );
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(name.as_bytes());
        out.push(0);
        while out.len() % 4 != 0 {
            out.push(0);
        }
        out.extend_from_slice(data);
        while out.len() % 4 != 0 {
            out.push(0);
        }
    };
    for (ino, (name, mode, data)) in files.iter().enumerate() {
        entry(ino + 1, name, *mode, data);
    }
    entry(0, "TRAILER!!!", 0, &[]);
    out
}

/// The value of `key=` on the line that has it.
fn value<'a>(output: &'a str, key: &str) -> Option<&'a str> {
    output
        .lines()
        .find_map(|line| line.split_once(&format!("{key}=")).map(|(_, v)| v.trim()))
}

#[test]
fn linux_blkfront_in_a_domu_against_our_blkback_in_dom0() {
    let tools = match tools() {
        Ok(tools) => tools,
        Err(why) => {
            eprintln!("SKIPPED (not run, not a pass): real Xen under QEMU: {why}");
            return;
        }
    };
    let images = images(&tools);
    let files = tempfile::tempdir().unwrap();
    std::fs::copy(
        env!("CARGO_BIN_EXE_mirage-blkback"),
        files.path().join("mirage-blkback"),
    )
    .unwrap();
    // The stock domU initramfs with our /init on top.
    let init =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/real_xen/domu-init"))
            .unwrap();
    let mut ramdisk = std::fs::read(images.join("domu.cpio.gz")).unwrap();
    let extra = cpio(&[("init", 0o100755, &init)]);
    let mut gzip = Command::new("gzip")
        .arg("-1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("gzip runs");
    use std::io::Write;
    gzip.stdin.take().unwrap().write_all(&extra).unwrap();
    ramdisk.extend(gzip.wait_with_output().unwrap().stdout);
    std::fs::write(files.path().join("domu-test.cpio.gz"), ramdisk).unwrap();

    let log = images.join("blk-serial.log");
    let output = Command::new(tools.join("boot.sh"))
        .arg("-s")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/real_xen/dom0-blk.sh"))
        .arg("-f")
        .arg(files.path())
        .args(["-t", "1500", "-l"])
        .arg(&log)
        .arg(&images)
        .output()
        .expect("boot.sh runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}\n{stderr}");
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
            "the backend stops cleanly when the device goes",
            value(&stdout, "@@ backend-exit") == Some("0"),
        ),
    ];
    assert!(
        results.iter().all(|ok| *ok),
        "real Xen cases failed (serial log: {})",
        log.display()
    );
}
