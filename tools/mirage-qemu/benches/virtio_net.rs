//! TCP throughput into a unikernel over virtio-net, against Linux's own virtio-net driver and
//! TCP over the same path, in one run: QEMU (TCG) on a tap device in a network namespace,
//! 16 MiB sent by the namespace's `nc` to a sink on port 5001: our `tcp_sink` test kernel
//! (mirage-virtio's example: the direct stack on `VirtioNet`), then Debian's kernel booted
//! from an initramfs whose busybox `nc` discards what it reads (`benches/linux-guest.sh`).
//!
//! Needs root (the namespace), `qemu-system-x86_64`, and apt-get (the Linux guest's
//! packages, cached in `target/linux-guest`); without them it says so and measures nothing.
//!
//! `cargo bench -p mirage-qemu --bench virtio_net`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BYTES: u64 = 16 << 20;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn sh(script: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .status()
        .is_ok_and(|status| status.success())
}

/// The namespace of the benchmark, with `tap0` at 10.0.0.1/24; removed on drop.
struct Namespace(String);

impl Namespace {
    fn new() -> Namespace {
        let name = format!("mirage-virtio-bench-{}", std::process::id());
        assert!(sh(&format!(
            "ip netns add {name} && ip netns exec {name} sh -c 'ip link set lo up && \
             ip tuntap add tap0 mode tap && ip addr add 10.0.0.1/24 dev tap0 && ip link set tap0 up'"
        )));
        Namespace(name)
    }

    /// Starts QEMU in the namespace with `args`, its console in `log`; waits for `ready`
    /// there and for `address` to answer.
    fn guest(&self, args: &str, log: &Path, ready: &str, address: &str) -> Child {
        let child = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "exec ip netns exec {} qemu-system-x86_64 -accel tcg -cpu max -nodefaults \
                 -no-user-config -display none -serial file:{} -device VGA \
                 -netdev tap,id=net0,ifname=tap0,script=no,downscript=no \
                 -device virtio-net-pci,netdev=net0 {args}",
                self.0,
                log.display()
            ))
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(120);
        while !std::fs::read_to_string(log).is_ok_and(|text| text.contains(ready)) {
            assert!(Instant::now() < deadline, "the guest never said {ready:?}");
            std::thread::sleep(Duration::from_millis(100));
        }
        while !sh(&format!(
            "ip netns exec {} nc -z -w 1 {address} 5001",
            self.0
        )) {
            assert!(Instant::now() < deadline, "{address}:5001 never answered");
            std::thread::sleep(Duration::from_millis(200));
        }
        child
    }

    /// Sends BYTES to `address`:5001; how long it took.
    fn send(&self, address: &str) -> Duration {
        let start = Instant::now();
        assert!(sh(&format!(
            "ip netns exec {} sh -c 'head -c {BYTES} /dev/zero | nc -N {address} 5001'",
            self.0
        )));
        start.elapsed()
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        sh(&format!(
            "for pid in $(ip netns pids {0}); do kill $pid; done; ip netns del {0}",
            self.0
        ));
    }
}

fn stop(mut guest: Child) {
    let _ = guest.kill();
    let _ = guest.wait();
}

fn virtio_net(c: &mut Criterion) {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 || !sh("command -v qemu-system-x86_64 >/dev/null") {
        eprintln!("SKIPPED: the virtio-net benchmark needs root and qemu-system-x86_64");
        return;
    }
    let target = root().join("target");
    let built = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["build", "--profile", "kernel", "--examples"])
        .current_dir(root().join("mirage-virtio"))
        .env("CARGO_TARGET_DIR", target.join("unikernel"))
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .status()
        .unwrap();
    assert!(built.success(), "building the tcp_sink kernel");
    let sink = target.join("unikernel/x86_64-unknown-linux-gnu/kernel/examples/tcp_sink");
    let linux = target.join("linux-guest");
    let script = root().join("tools/mirage-qemu/benches/linux-guest.sh");
    assert!(
        sh(&format!(
            "{} {} >/dev/null 2>&1",
            script.display(),
            linux.display()
        )),
        "building the Linux guest"
    );
    let logs = tempfile::tempdir().unwrap();
    let namespace = Namespace::new();
    let mut group = c.benchmark_group("virtio-net TCP into the guest, 16 MiB");
    group.throughput(Throughput::Bytes(BYTES));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));

    let guest = namespace.guest(
        &format!(
            "-m 64 -kernel {} -append '10.0.0.2 5001 1000000'",
            sink.display()
        ),
        &logs.path().join("unikernel.log"),
        "sink listening",
        "10.0.0.2",
    );
    group.bench_function("unikernel (direct stack, VirtioNet)", |b| {
        b.iter_custom(|n| (0..n).map(|_| namespace.send("10.0.0.2")).sum())
    });
    stop(guest);

    let guest = namespace.guest(
        &format!(
            "-m 256 -kernel {} -initrd {} -append 'console=ttyS0 quiet ip=10.0.0.3'",
            linux.join("vmlinuz").display(),
            linux.join("initrd.gz").display()
        ),
        &logs.path().join("linux.log"),
        "linux sink listening",
        "10.0.0.3",
    );
    group.bench_function("Linux guest (virtio_net, kernel TCP)", |b| {
        b.iter_custom(|n| (0..n).map(|_| namespace.send("10.0.0.3")).sum())
    });
    stop(guest);
    group.finish();
}

criterion_group!(benches, virtio_net);
criterion_main!(benches);
