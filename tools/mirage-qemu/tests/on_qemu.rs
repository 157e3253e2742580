//! Our virtio unikernels under QEMU's TCG (`qemu-system-x86_64`, installed by `.ci/run`):
//! mir-console built and run by its README's two commands, with its lines exact and a
//! second apart; the runtime's test kernel carrying an exit status out, and a panic and a
//! page fault shown with status 1; and the figures (image size, QEMU start to the first
//! line, the guest's own boot time, the CPU a sleeping guest uses).
//!
//! Without `qemu-system-x86_64` the tests say so and do nothing (a skip, not a pass).

use mirage_qemu::QemuGuest;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// One test at a time: each boots TCG guests, which share the machine's two cores with
/// whatever else runs (a kernel building for the next test would starve a guest's timers).
static ONE_TEST: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Takes this test's turn (see [`ONE_TEST`]); `None` (a skip) without QEMU.
fn turn() -> Option<std::sync::MutexGuard<'static, ()>> {
    have_qemu().then(|| {
        ONE_TEST
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    })
}

fn have_qemu() -> bool {
    let found = Command::new("qemu-system-x86_64")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !found {
        eprintln!("SKIPPED: no qemu-system-x86_64 (.ci/run installs it)");
    }
    found
}

/// Builds the kernels of the crate in `dir` (`cargo build --profile kernel ARGS`) with the
/// kernels' flags, not the tests'.
fn build_kernels(dir: &Path, args: &[&str]) -> PathBuf {
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

/// What a run printed, each line with when it came (since the script started), its exit
/// status, and the CPU time QEMU used.
struct Run {
    lines: Vec<(Duration, String)>,
    status: i32,
    cpu: Duration,
    wall: Duration,
}

impl Run {
    fn texts(&self) -> Vec<&str> {
        self.lines.iter().map(|(_, line)| line.as_str()).collect()
    }
}

/// CPU time the waited-for children of this process used so far.
fn children_cpu() -> Duration {
    // SAFETY: getrusage fills a valid struct; RUSAGE_CHILDREN counts waited-for children.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage);
        usage
    };
    let seconds = usage.ru_utime.tv_sec + usage.ru_stime.tv_sec;
    let micros = usage.ru_utime.tv_usec + usage.ru_stime.tv_usec;
    Duration::from_secs(seconds as u64) + Duration::from_micros(micros as u64)
}

/// One run at a time: each run's CPU time is the children's before and after it.
static ONE_RUN: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Runs `script` under TCG, at most `limit`.
fn run(script: &Path, limit: Duration) -> Run {
    let _one = ONE_RUN
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let cpu_before = children_cpu();
    let start = Instant::now();
    let mut child = Command::new("timeout")
        .arg(limit.as_secs().to_string())
        .arg(script)
        .env("MIRAGE_ACCEL", "tcg")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the run script starts");
    let mut lines = Vec::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.expect("the console is text");
        lines.push((start.elapsed(), line.trim_end_matches('\r').to_owned()));
    }
    let status = child.wait().unwrap().code().unwrap_or(-1);
    Run {
        lines,
        status,
        cpu: children_cpu() - cpu_before,
        wall: start.elapsed(),
    }
}

#[test]
fn the_console_example_by_its_readme_prints_its_lines_a_second_apart() {
    let Some(_turn) = turn() else {
        return;
    };
    let out = build_example("console", "");
    let script = out.path().join("console.sh");
    let xml = std::fs::read_to_string(out.path().join("console.xml")).unwrap();
    assert!(xml.contains("mir-console.virtio</kernel>"), "{xml}");
    let run = run(&script, Duration::from_secs(120));
    assert_eq!(run.texts(), ["hello", "world"].repeat(4));
    assert_eq!(run.status, 0, "powered off");
    for pair in run.lines[1..].windows(3).step_by(2) {
        let gap = (pair[2].0 - pair[0].0).as_secs_f64();
        assert!((0.9..1.5).contains(&gap), "world to world took {gap} s");
    }
    let image = std::fs::metadata(out.path().join("mir-console.virtio"))
        .unwrap()
        .len();
    eprintln!(
        "figures: mir-console.virtio {image} bytes; script start to first line {:.0} ms; \
         QEMU used {:.2} s of CPU over {:.2} s, sleeping 4 s of it",
        run.lines[0].0.as_secs_f64() * 1000.0,
        run.cpu.as_secs_f64(),
        run.wall.as_secs_f64()
    );
}

/// `virsh` on the system's libvirt daemon (QEMU driver), if one answers.
fn virsh(args: &[&str]) -> Option<std::process::Output> {
    Command::new("virsh")
        .args(["-c", "qemu:///system"])
        .args(args)
        .output()
        .ok()
}

#[test]
fn libvirt_starts_the_console_example_from_its_xml_and_its_console_is_exact() {
    let Some(_turn) = turn() else {
        return;
    };
    if !virsh(&["version"]).is_some_and(|output| output.status.success()) {
        eprintln!("SKIPPED: no libvirt daemon answers (.ci/run installs and starts one)");
        return;
    }
    let out = build_example("console", "");
    let xml = out.path().join("console.xml");
    let log = out.path().join("console.console.log");
    // A domain left by an earlier run would refuse the name.
    let _ = virsh(&["destroy", "console"]);
    let created = virsh(&["create", &xml.display().to_string()]).unwrap();
    assert!(created.status.success(), "virsh create: {created:?}");
    // The domain powers off after its eight lines (on_poweroff: destroy).
    let deadline = Instant::now() + Duration::from_secs(120);
    while virsh(&["domstate", "console"]).is_some_and(|state| state.status.success()) {
        assert!(Instant::now() < deadline, "the domain did not power off");
        std::thread::sleep(Duration::from_millis(200));
    }
    let console = std::fs::read_to_string(&log).unwrap();
    assert_eq!(console, "hello\r\nworld\r\n".repeat(4));
}

/// Builds example `name` (its `virtio/build.sh`, with `keys` as KEYS) into a new directory,
/// returned.
fn build_example(example: &str, keys: &str) -> tempfile::TempDir {
    let out = tempfile::tempdir().unwrap();
    let status = Command::new(root().join(format!("examples/{example}/virtio/build.sh")))
        .arg(out.path())
        .env("KEYS", keys)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR")
        .status()
        .unwrap();
    assert!(status.success(), "examples/{example}/virtio/build.sh");
    out
}

#[test]
fn block_test_by_its_readme_passes_the_tutorial_tests_on_virtio_blk() {
    let Some(_turn) = turn() else {
        return;
    };
    let out = build_example("block", "");
    assert!(
        out.path().join("disk.img").exists(),
        "build.sh makes the disk"
    );
    let run = run(&out.path().join("block_test.sh"), Duration::from_secs(300));
    let printed: String = run.texts().iter().map(|line| format!("{line}\n")).collect();
    assert_eq!(
        printed,
        include_str!("../../../examples/block/tests/tutorial_output.txt")
    );
    assert_eq!(run.status, 0);
}

#[test]
fn kv_ro_by_its_readme_says_yes_from_fat_on_virtio_blk_and_from_crunch() {
    let Some(_turn) = turn() else {
        return;
    };
    for store in ["fat", "crunch"] {
        let out = build_example("kv_ro", &format!("--kv-ro {store} --count 2"));
        let run = run(&out.path().join("kv_ro.sh"), Duration::from_secs(120));
        assert_eq!(run.texts(), ["YES!", "YES!"], "--kv-ro {store}");
        assert_eq!(run.status, 0, "--kv-ro {store}");
    }
}

/// The runtime's test kernel with `args` on its command line.
fn hello(args: &str) -> Run {
    let kernels = build_kernels(&root().join("mirage-virtio"), &["--examples"]);
    let dir = tempfile::tempdir().unwrap();
    let guest = QemuGuest::new(
        "hello",
        kernels.join("examples/hello").display().to_string(),
    )
    .memory(16)
    .extra(args);
    guest.check().unwrap();
    let script = dir.path().join("hello.sh");
    std::fs::write(&script, guest.run_script("test")).unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    run(&script, Duration::from_secs(60))
}

#[test]
fn an_exit_status_comes_out_and_a_panic_or_fault_is_shown_with_status_1() {
    let Some(_turn) = turn() else {
        return;
    };
    let exited = hello("exit=42");
    assert_eq!(exited.status, 42, "{:?}", exited.texts());
    let first = &exited.lines[0].1;
    assert!(first.ends_with("args \"exit=42\""), "{first}");
    assert_eq!(exited.texts()[1..], ["hello", "world"]);

    let panicked = hello("panic");
    assert_eq!(panicked.status, 1);
    let text = panicked.texts().join("\n");
    assert!(text.contains("panic: panicked at"), "{text}");
    assert!(text.contains("the test kernel panics on purpose"), "{text}");

    let faulted = hello("fault");
    assert_eq!(faulted.status, 1);
    let text = faulted.texts().join("\n");
    assert!(
        text.contains("page fault (vector 14") && text.contains("address 0x100000000"),
        "{text}"
    );

    let boot_us: u64 = first
        .strip_prefix("boot ")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|us| us.parse().ok())
        .expect("the boot time");
    eprintln!(
        "figures: the guest's first instruction to main {boot_us} us; script start to \
         first line {:.0} ms",
        exited.lines[0].0.as_secs_f64() * 1000.0
    );
}

/// A network namespace made for a test, with `tap0` at 10.0.0.1/24 on the host's side
/// (QEMU opens it by name inside); removed on drop. Needs root.
struct Namespace {
    name: String,
}

impl Namespace {
    fn new(tag: &str) -> Option<Namespace> {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("SKIPPED: network namespace tests need root");
            return None;
        }
        let namespace = Namespace {
            name: format!("mirage-virtio-{tag}-{}", std::process::id()),
        };
        let made = Command::new("ip")
            .args(["netns", "add", &namespace.name])
            .status()
            .unwrap();
        assert!(made.success(), "ip netns add");
        namespace.sh("ip link set lo up && ip tuntap add tap0 mode tap && \
             ip addr add 10.0.0.1/24 dev tap0 && ip link set tap0 up");
        Some(namespace)
    }

    /// Runs `script` in the namespace; its stdout, after checking it succeeded.
    fn sh(&self, script: &str) -> String {
        let output = Command::new("ip")
            .args(["netns", "exec", &self.name, "sh", "-c", script])
            .output()
            .unwrap();
        assert!(output.status.success(), "{script}: {output:?}");
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Starts `script` in the namespace (the unikernel's run script); its console's lines
    /// arrive on the channel.
    fn start(&self, script: &Path) -> (std::process::Child, std::sync::mpsc::Receiver<String>) {
        let mut child = Command::new("ip")
            .args(["netns", "exec", &self.name])
            .arg(script)
            .env("MIRAGE_ACCEL", "tcg")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (sender, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let line = line.unwrap_or_default();
                if sender.send(line.trim_end_matches('\r').to_owned()).is_err() {
                    break;
                }
            }
        });
        (child, lines)
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "pids", &self.name])
            .output()
            .map(|pids| {
                for pid in String::from_utf8_lossy(&pids.stdout).split_whitespace() {
                    let _ = Command::new("kill").arg(pid).status();
                }
            });
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

fn line(lines: &std::sync::mpsc::Receiver<String>) -> String {
    lines
        .recv_timeout(Duration::from_secs(30))
        .expect("no console line from the unikernel in 30 s")
}

/// Pings the unikernel at `address`, sends it a UDP and a TCP line from the namespace, and
/// checks its console says so exactly.
fn reach(namespace: &Namespace, lines: &std::sync::mpsc::Receiver<String>, address: &str) {
    let ping = namespace.sh(&format!("ping -c 3 -i 0.2 -W 5 {address}"));
    assert!(ping.contains("3 packets transmitted, 3 received"), "{ping}");
    namespace.sh(&format!(
        "echo -n hello udp world | nc -u -w1 -p 40053 {address} 53"
    ));
    assert_eq!(
        line(lines),
        format!("UDP 10.0.0.1:40053 > {address}:53: \"hello udp world\"")
    );
    namespace.sh(&format!(
        "echo -n hello tcp world | nc -w1 -p 40080 {address} 8080"
    ));
    assert_eq!(line(lines), "TCP 10.0.0.1:40080 > _:8080");
    assert_eq!(line(lines), "read: 15 \"hello tcp world\"");
}

#[test]
fn stackv4_on_virtio_net_is_reached_by_the_kernels_ping_and_nc_and_serves_a_burst() {
    let Some(_turn) = turn() else {
        return;
    };
    let Some(namespace) = Namespace::new("static") else {
        return;
    };
    let out = build_example("stackv4", "");
    let (mut qemu, lines) = namespace.start(&out.path().join("stackv4.sh"));
    assert_eq!(line(&lines), "IP address: 10.0.0.2");
    assert_eq!(line(&lines), "");
    reach(&namespace, &lines, "10.0.0.2");
    // 200 connections at once, each sending a line after 2 s: more than the unikernel's
    // TCP memory holds at once in 32 MiB, so some wait for their SYNs to be sent again.
    let refused = out.path().join("refused");
    namespace.sh(&format!(
        "for i in $(seq 200); do ( (sleep 2; echo f) | nc -w 150 10.0.0.2 8080 >/dev/null 2>&1 \
         || echo $i >> {} & ); done",
        refused.display()
    ));
    let deadline = Instant::now() + Duration::from_secs(180);
    let (mut served, mut other) = (0, Vec::new());
    while served < 200 && Instant::now() < deadline {
        match lines.recv_timeout(Duration::from_secs(1)) {
            Ok(line) if line == "read: 2 \"f" => served += 1,
            Ok(line) if line.starts_with("TCP ") || line == "\"" => {}
            Ok(line) => other.push(line),
            Err(_) => {}
        }
    }
    let failed = std::fs::read_to_string(&refused).unwrap_or_default();
    assert_eq!(
        served, 200,
        "connections of the burst served; other lines {other:?}; clients that failed: {failed:?}"
    );
    let _ = qemu.kill();
    let _ = qemu.wait();
}

#[test]
fn stackv4_on_virtio_net_takes_a_lease_from_dnsmasq() {
    let Some(_turn) = turn() else {
        return;
    };
    let Some(namespace) = Namespace::new("dhcp") else {
        return;
    };
    let out = build_example("stackv4", "--dhcp true");
    let leases = out.path().join("leases");
    namespace.sh(&format!(
        "dnsmasq --port=0 --interface=tap0 --bind-interfaces --no-ping \
         --dhcp-range=10.0.0.50,10.0.0.99,255.255.255.0,1h --dhcp-leasefile={} \
         --pid-file={}/dnsmasq.pid",
        leases.display(),
        out.path().display()
    ));
    let (mut qemu, lines) = namespace.start(&out.path().join("stackv4.sh"));
    let lease = line(&lines);
    let address = lease
        .strip_prefix("DHCP offer received and bound to ")
        .and_then(|rest| rest.split(' ').next())
        .unwrap_or_else(|| panic!("{lease}"))
        .to_owned();
    assert!(address.starts_with("10.0.0."), "{lease}");
    assert_eq!(line(&lines), format!("IP address: {address}"));
    assert_eq!(line(&lines), "");
    reach(&namespace, &lines, &address);
    let _ = qemu.kill();
    let _ = qemu.wait();
}

#[test]
fn the_static_website_on_virtio_net_serves_https_and_redirects_http() {
    let Some(_turn) = turn() else {
        return;
    };
    let Some(namespace) = Namespace::new("website") else {
        return;
    };
    let out = build_example(
        "static_website",
        "--https true --header-timeout 3 --ipv6 fd00::2/64 --accept-router-advertisements false",
    );
    namespace.sh("ip -6 addr add fd00::1/64 dev tap0 nodad");
    let (mut qemu, lines) = namespace.start(&out.path().join("static_website.sh"));
    assert_eq!(
        line(&lines),
        "HTTP on port 8080 at 10.0.0.2:8080 (redirecting to HTTPS)"
    );
    assert_eq!(line(&lines), "HTTPS on port 4433 at 10.0.0.2:4433");
    let ca = root().join("examples/static_website/test-ca.pem");
    let curl = format!(
        "curl -s --max-time 60 --cacert {} --resolve localhost:4433:10.0.0.2",
        ca.display()
    );
    let get = |path: &str, what: &str| {
        namespace.sh(&format!(
            "{curl} -o /dev/null -w '{what}' https://localhost:4433{path}"
        ))
    };
    assert_eq!(get("/", "%{http_code} %{size_download}"), "200 612");
    assert_eq!(get("/no/such/page", "%{http_code}"), "404");
    assert_eq!(get("/tls/server.key", "%{http_code}"), "404");
    assert_eq!(
        namespace.sh(
            "curl -s -o /dev/null -w '%{http_code} %{redirect_url}' http://10.0.0.2:8080/about.html"
        ),
        "301 https://10.0.0.2:4433/about.html"
    );
    // The same ports over IPv6: ping, the page, and a redirect that keeps the brackets.
    namespace.sh("ping -6 -c 2 -i 0.2 -W 5 fd00::2 >/dev/null");
    assert_eq!(
        namespace.sh(&format!(
            "curl -s --max-time 60 --cacert {} --resolve 'localhost:4433:[fd00::2]' \
             -o /dev/null -w '%{{http_code}} %{{size_download}}' https://localhost:4433/",
            ca.display()
        )),
        "200 612"
    );
    assert_eq!(
        namespace.sh(
            "curl -s -o /dev/null -w '%{http_code} %{redirect_url}' 'http://[fd00::2]:8080/about.html'"
        ),
        "301 https://[fd00::2]:4433/about.html"
    );
    // The 6 MiB file, byte-exact: the site the kernel's build script compiled in.
    let large = out.path().join("large.bin");
    namespace.sh(&format!(
        "{curl} -o {} https://localhost:4433/files/large.bin",
        large.display()
    ));
    let site =
        std::fs::read_dir(root().join("target/unikernel/x86_64-unknown-linux-gnu/kernel/build"))
            .unwrap()
            .filter_map(|entry| Some(entry.ok()?.path().join("out/htdocs/files/large.bin")))
            .find(|file| file.exists())
            .expect("the website's build script wrote its site");
    assert!(
        std::fs::read(&large).unwrap() == std::fs::read(site).unwrap(),
        "the large file differs"
    );
    // 200 idle connections (more than its TCP memory holds): a request waits for them to
    // be dropped after the header timeout, and is answered.
    namespace.sh(
        "for i in $(seq 200); do ( sleep 8 | nc 10.0.0.2 4433 >/dev/null 2>&1 & ); done; sleep 0.5",
    );
    assert_eq!(get("/about.html", "%{http_code}"), "200");
    let _ = qemu.kill();
    let _ = qemu.wait();
}
