//! Booting a real Xen under QEMU from a test or a benchmark: the workspace's
//! `../shared/tools/xen-qemu` scripts, images built once into the target directory, a domU
//! ramdisk with our own `/init`, and a dom0 script's output.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The xen-qemu tools, or why the test cannot run here.
pub fn tools() -> Result<PathBuf, String> {
    // `shared/tools/xen-qemu` beside the workspace (../shared from its root), or where
    // XEN_QEMU_TOOLS says.
    let beside = Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|dir| dir.join("shared/tools/xen-qemu"))
        .find(|dir| dir.join("boot.sh").exists())
        .unwrap_or_else(|| PathBuf::from("../shared/tools/xen-qemu"));
    let tools = std::env::var_os("XEN_QEMU_TOOLS").map_or(beside, PathBuf::from);
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

/// Builds (once) the images under the target directory. Tests of one binary run in
/// parallel: the first builds while the others wait on a lock (two builds at once would
/// move each other's files away).
pub fn images(tools: &Path) -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let out = tmp.join("xen-qemu");
    std::fs::create_dir_all(tmp).unwrap();
    let lock = std::fs::File::create(tmp.join("xen-qemu-build.lock")).unwrap();
    // SAFETY: flock on a descriptor this owns; released when `lock` is dropped.
    let locked = unsafe { libc::flock(std::os::fd::AsRawFd::as_raw_fd(&lock), libc::LOCK_EX) };
    assert_eq!(locked, 0, "locking {}", tmp.display());
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
pub fn cpio(files: &[(&str, u32, &[u8])]) -> Vec<u8> {
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
pub fn value<'a>(output: &'a str, key: &str) -> Option<&'a str> {
    output
        .lines()
        .find_map(|line| line.split_once(&format!("{key}=")).map(|(_, v)| v.trim()))
}

/// The stock domU initramfs with `init` (a script) as its `/init`, written into `files`
/// as `domu-test.cpio.gz`; `programs` (path in the domU, program built here) are added
/// stripped, with the C library they load (the stock domU has only a static busybox), and
/// data files among them (no ELF header) as they are, each under its directories.
pub fn domu_ramdisk(images: &Path, init: &Path, programs: &[(&str, &Path)], files: &Path) {
    let init = std::fs::read(init).unwrap();
    let mut entries: Vec<(String, u32, Vec<u8>)> = vec![("init".into(), 0o100755, init)];
    if !programs.is_empty() {
        for dir in ["lib", "lib64", "lib/x86_64-linux-gnu"] {
            entries.push((dir.into(), 0o040755, Vec::new()));
        }
        for lib in [
            "/lib/x86_64-linux-gnu/libc.so.6",
            "/lib/x86_64-linux-gnu/libgcc_s.so.1",
            "/lib/x86_64-linux-gnu/libm.so.6",
        ] {
            entries.push((lib[1..].into(), 0o100755, std::fs::read(lib).unwrap()));
        }
        let loader = std::fs::read("/lib64/ld-linux-x86-64.so.2").unwrap();
        entries.push(("lib64/ld-linux-x86-64.so.2".into(), 0o100755, loader));
    }
    for (path, program) in programs {
        // Each directory above it first (the kernel's unpacker makes none itself).
        let mut parent = String::new();
        for dir in path.split('/').collect::<Vec<_>>().split_last().unwrap().1 {
            parent = if parent.is_empty() {
                dir.to_string()
            } else {
                format!("{parent}/{dir}")
            };
            if !entries.iter().any(|(name, _, _)| *name == parent) {
                entries.push((parent.clone(), 0o040755, Vec::new()));
            }
        }
        let contents = std::fs::read(program).unwrap();
        if !contents.starts_with(b"\x7fELF") {
            // A data file (a page, a certificate): as it is.
            entries.push((path.to_string(), 0o100644, contents));
            continue;
        }
        let stripped = files.join("stripped");
        let status = Command::new("strip")
            .arg("-o")
            .arg(&stripped)
            .arg(program)
            .status()
            .expect("strip runs");
        assert!(status.success(), "strip {}", program.display());
        entries.push((
            path.to_string(),
            0o100755,
            std::fs::read(&stripped).unwrap(),
        ));
        std::fs::remove_file(stripped).unwrap();
    }
    let listed: Vec<(&str, u32, &[u8])> = entries
        .iter()
        .map(|(name, mode, data)| (name.as_str(), *mode, data.as_slice()))
        .collect();
    // One gzip stream of both archives: libxc inflates a gzip'd ramdisk itself, sizing its
    // buffer by the last member's trailer, and so keeps only the first member when there
    // are several (our programs vanished); Linux unpacks archives that follow each other.
    let stock = Command::new("gzip")
        .arg("-dc")
        .arg(images.join("domu.cpio.gz"))
        .output()
        .expect("gzip runs");
    assert!(stock.status.success(), "gzip -dc domu.cpio.gz");
    let mut archives = stock.stdout;
    archives.extend(cpio(&listed));
    let mut gzip = Command::new("gzip")
        .arg("-1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("gzip runs");
    use std::io::Write;
    let mut input = gzip.stdin.take().unwrap();
    let writer = std::thread::spawn(move || input.write_all(&archives).unwrap());
    let ramdisk = gzip.wait_with_output().unwrap().stdout;
    writer.join().unwrap();
    std::fs::write(files.join("domu-test.cpio.gz"), ramdisk).unwrap();
}

/// The CPU QEMU emulates: its `max` without XSAVE (and so without AVX). With `max`, processes
/// in dom0 crash at random under TCG: a stress run (`echo a | grep -q a` in a loop while
/// three domUs boot) left 6-15 cores of busybox per ~3,000 runs, a pointer read back as
/// ASCII from another process's memory, and our backends died the same way (issue 12's
/// SIGSEGV in tokio). The extended register state is what goes wrong across context
/// switches: without XSAVE the same run leaves none, while dropping FSGSBASE, PCID/INVPCID
/// or SVM alone does not help. Giving dom0 one vCPU instead of two also avoids it.
pub const QEMU_CPU: &str = "max,-xsave";

/// Boots Xen, runs `script` in dom0 with `files` at `/host`, and returns what it printed
/// (and boot.sh's own report); the serial log goes to `log`.
pub fn boot(tools: &Path, images: &Path, script: &Path, files: &Path, log: &Path) -> String {
    // One Xen at a time, across tests and test binaries: two under TCG on two cores would
    // each run at half speed.
    let lock = std::fs::File::create(images.join("boot.lock")).unwrap();
    // SAFETY: flock on a descriptor this owns; released when `lock` is dropped.
    let locked = unsafe { libc::flock(std::os::fd::AsRawFd::as_raw_fd(&lock), libc::LOCK_EX) };
    assert_eq!(locked, 0, "locking {}", images.display());
    let output = Command::new(tools.join("boot.sh"))
        .args(["-c", QEMU_CPU])
        .arg("-s")
        .arg(script)
        .arg("-f")
        .arg(files)
        .args(["-t", "1500", "-l"])
        .arg(log)
        .arg(images)
        .output()
        .expect("boot.sh runs");
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Every value of `key=` on lines that have it.
pub fn values<'a>(output: &'a str, key: &str) -> Vec<&'a str> {
    output
        .lines()
        .filter_map(|line| line.split_once(&format!("{key}=")).map(|(_, v)| v.trim()))
        .collect()
}

/// This directory: the dom0 scripts and domU inits.
pub fn scripts() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|dir| dir.join("mirage-xen/tests/real_xen"))
        .find(|dir| dir.join("harness.rs").exists())
        .expect("mirage-xen/tests/real_xen in the workspace")
}

/// One case on the real Xen: a domU whose `/init` is `init` (with `domu_programs` added,
/// path in the domU and program), dom0 running `script` with `dom0_programs` at `/host`;
/// returns what the script printed and the serial log's path. `None` (said on stderr)
/// where the machine cannot boot Xen: a skip, not a pass.
pub fn run_case(
    init: &str,
    domu_programs: &[(&str, &Path)],
    dom0_programs: &[(&str, &Path)],
    script: &str,
    log: &str,
) -> Option<(String, PathBuf)> {
    let tools = match tools() {
        Ok(tools) => tools,
        Err(why) => {
            eprintln!("SKIPPED (not run, not a pass): real Xen under QEMU: {why}");
            return None;
        }
    };
    let images = images(&tools);
    let files = tempfile::tempdir().unwrap();
    for (name, program) in dom0_programs {
        std::fs::copy(program, files.path().join(name)).unwrap();
    }
    let here = scripts();
    domu_ramdisk(&images, &here.join(init), domu_programs, files.path());
    let log = images.join(log);
    // The script runs after the functions the dom0 scripts share (dom0-lib.sh).
    let combined = tempfile::Builder::new().suffix(".sh").tempfile().unwrap();
    let text = [
        "#!/bin/sh".to_string(),
        std::fs::read_to_string(here.join("dom0-lib.sh")).unwrap(),
        std::fs::read_to_string(here.join(script)).unwrap(),
    ]
    .join("\n");
    std::fs::write(combined.path(), text).unwrap();
    let output = boot(&tools, &images, combined.path(), files.path(), &log);
    println!("{output}");
    Some((output, log))
}

/// A host program for dom0 and the shared libraries it needs that dom0's image (glibc
/// 2.36, the same as this Debian host's) lacks: (name in `/host`, path here) pairs. Dom0
/// runs it with `LD_LIBRARY_PATH=/host`.
pub fn with_libraries(name: &str, program: &Path) -> Vec<(String, PathBuf)> {
    let listed = std::process::Command::new("ldd")
        .arg(program)
        .output()
        .expect("ldd runs");
    let glibc = [
        "libc.so",
        "libm.so",
        "libresolv.so",
        "libpthread.so",
        "libdl.so",
        "ld-linux",
    ];
    let mut files = vec![(name.to_string(), program.to_path_buf())];
    for line in String::from_utf8_lossy(&listed.stdout).lines() {
        let Some((library, path)) = line.trim().split_once(" => ") else {
            continue;
        };
        let path = path.split(" (").next().unwrap_or("").trim();
        if path.starts_with('/') && !glibc.iter().any(|g| library.starts_with(g)) {
            files.push((library.to_string(), PathBuf::from(path)));
        }
    }
    files
}

/// The static website as its unikernel has it compiled in: the directory its build script
/// wrote under the kernels' build directory `kernels` (every build writes the same files).
pub fn website_site(kernels: &Path) -> PathBuf {
    std::fs::read_dir(kernels.join("build"))
        .unwrap()
        .filter_map(|entry| Some(entry.ok()?.path().join("out/htdocs")))
        .find(|dir| dir.join("files/large.bin").exists())
        .expect("the website's build script wrote its site")
}

/// The repository's root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Builds kernels with `cargo build --profile kernel ARGS` in `dir` (a kernel workspace)
/// and returns the directory they land in.
pub fn build_kernels(dir: &Path, args: &[&str]) -> PathBuf {
    let target = root().join("target/unikernel");
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["build", "--profile", "kernel"])
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", &target)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .status()
        .expect("cargo runs");
    assert!(
        status.success(),
        "building the kernels in {}",
        dir.display()
    );
    target.join("x86_64-unknown-linux-gnu/kernel")
}
