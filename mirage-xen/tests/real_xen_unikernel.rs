//! Our own unikernels on a real Xen (nested under QEMU, the workspace's
//! `../shared/tools/xen-qemu`): the kernel images (mirage-xen-pv, `examples/*/xen`) are
//! built, booted by `xl create` from their generated `.xl` (PV), and checked on their
//! consoles: mir-console's eight lines a second apart, then poweroff; mir-block_test's ten
//! tests exactly, over our Blkfront against dom0's kernel blkback; kv_ro_crunch and kv_ro's
//! `YES!`; stackv4 reached by dom0's ping (and `ping -6` at its fixed IPv6 address) and nc,
//! and serving a burst of 200 connections beyond its TCP memory; the static website fetched
//! by dom0's curl over HTTP and over HTTPS (the unikernel's own TLS), also behind 200 idle
//! connections, and over IPv6 on the same port; a panic ends the domain
//! crashed with its message on the console, a stack overflow faults on the guard page and
//! crashes it too, so does running out of heap (the failed allocation named on the
//! console); an idle guest uses no CPU.
//!
//! Needs root and `qemu-system-x86_64`; without them the test says so and does nothing (a
//! skip, not a pass).

#[path = "real_xen/harness.rs"]
mod harness;

use mirage_xen::xl::{GuestType, XlConfig};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The `.xl` mirage-xl writes for a PV kernel at `/host/KERNEL`.
fn xl(name: &str, kernel: &str, memory: u32) -> XlConfig {
    XlConfig::new(name, format!("/host/{kernel}"))
        .guest(GuestType::Pv)
        .memory(memory)
}

/// The time in seconds of `key=TIME ...` lines.
fn times(output: &str, key: &str) -> Vec<(f64, String)> {
    harness::values(output, key)
        .into_iter()
        .filter_map(|value| {
            let (time, text) = value.split_once(' ').unwrap_or((value, ""));
            Some((time.parse().ok()?, text.trim().to_string()))
        })
        .collect()
}

/// Checks the console of stackv4 domain `name` at `address`: `before` (the lease line), its
/// address, then dom0's UDP and TCP lines exactly, and dom0's three pings answered.
fn check_stackv4(output: &str, name: &str, before: &[&str], address: &str, serial: &str) {
    assert_eq!(
        harness::value(output, &format!("@@ {name}-ping")),
        Some("3 packets transmitted, 3 packets received"),
        "{name}; {serial}"
    );
    let console = harness::values(output, &format!("@@ {name}-console"));
    let printed: Vec<&str> = console
        .iter()
        .map(|line| line.trim_end())
        .filter(|line| !line.is_empty())
        .collect();
    let address_line = format!("IP address: {address}");
    let udp_line = format!("> {address}:53: \"hello udp world\"");
    let (head, rest) = printed.split_at(before.len().min(printed.len()));
    assert_eq!(head, before, "{name}: {printed:?}; {serial}");
    assert_eq!(
        rest.first(),
        Some(&address_line.as_str()),
        "{name}: {printed:?}; {serial}"
    );
    assert!(
        rest.iter()
            .any(|line| line.starts_with("UDP 169.254.100.1:") && line.ends_with(&udp_line)),
        "{name}: {printed:?}; {serial}"
    );
    let tcp = rest
        .iter()
        .position(|line| line.starts_with("TCP 169.254.100.1:") && line.ends_with(" > _:8080"));
    assert!(
        tcp.is_some_and(|at| rest.get(at + 1) == Some(&"read: 15 \"hello tcp world\"")),
        "{name}: {printed:?}; {serial}"
    );
}

/// The large file the website's build script made (every build makes the same bytes), from
/// the kernels' build directory `kernels`.
fn website_large_file(kernels: &Path) -> Vec<u8> {
    std::fs::read(harness::website_site(kernels).join("files/large.bin")).unwrap()
}

/// Checks what dom0's curl got from the static website unikernel `name`, over HTTP or
/// (`https`) over HTTPS with plain HTTP redirecting there.
fn check_website(output: &str, name: &str, https: bool, kernels: &Path, serial: &str) {
    let value = |key: &str| harness::value(output, &format!("@@ {name}-{key}")).unwrap_or("");
    let console = harness::values(output, &format!("@@ {name}-console"));
    let context = format!("{name}: console {console:?}; {serial}");
    let printed: Vec<&str> = console.iter().map(|line| line.trim_end()).collect();
    let expected: &[&str] = if https {
        &[
            "HTTP on port 8080 at 169.254.100.3:8080 (redirecting to HTTPS)",
            "HTTPS on port 4433 at 169.254.100.3:4433",
        ]
    } else {
        &["HTTP on port 8080 at 169.254.100.3:8080"]
    };
    assert_eq!(printed, expected, "{context}");
    let redirect = if https {
        "301 https://169.254.100.3:4433/about.html"
    } else {
        "200"
    };
    assert_eq!(value("redirect").trim_end(), redirect, "{context}");
    // The same over IPv6, on the same port.
    let ipv6 = if https {
        "301 https://[fd00::3]:4433/about.html"
    } else {
        "200"
    };
    assert_eq!(value("ipv6").trim_end(), ipv6, "{context}");
    assert_eq!(value("key"), "404", "{context}");
    assert_eq!(value("index"), "200 612", "{context}");
    assert_eq!(value("index-says"), "It works!", "{context}");
    assert_eq!(value("404"), "404", "{context}");
    let large = website_large_file(kernels);
    assert_eq!(
        value("range"),
        format!("206 100 {}", mirage_types::hex_sha256(&large[100..200])),
        "{context}"
    );
    assert!(value("etag").starts_with('"'), "{context}");
    assert_eq!(value("304"), "304", "{context}");
    let got: Vec<&str> = value("large").split(' ').collect();
    assert_eq!(
        (got[0], got[1], got.get(3).copied()),
        (
            "200",
            large.len().to_string().as_str(),
            Some(mirage_types::hex_sha256(&large).as_str())
        ),
        "{context}"
    );
    assert_eq!(value("reused"), "1", "kept alive; {context}");
    let during: Vec<&str> = value("during-slow").split(' ').collect();
    assert_eq!(during[0], "200", "{context}");
    assert!(
        during[1].parse::<f64>().unwrap() < 2.0,
        "a slow client held up another for {} s; {context}",
        during[1]
    );
    assert_eq!(value("slow-answer"), "0", "{context}");
    assert_eq!(value("bad"), "HTTP/1.1 400 Bad Request", "{context}");
    assert_eq!(
        value("during-flood"),
        "200",
        "behind 200 idle connections; {context}"
    );
    assert_eq!(
        value("after-flood"),
        "200",
        "after 200 idle connections; {context}"
    );
    assert!(!value("state").contains('c'), "crashed; {context}");
}

#[test]
fn our_unikernels_boot_on_xen_from_their_xl_and_run_the_tutorial() {
    // Without QEMU or root, run_case below says why and skips; the kernels are built
    // only where they can boot.
    if let Err(why) = harness::tools() {
        eprintln!("SKIPPED (not run, not a pass): real Xen under QEMU: {why}");
        return;
    }
    let console = harness::build_kernels(&harness::root().join("examples/console/xen"), &[])
        .join("mir-console-xen");
    let block_test = harness::build_kernels(&harness::root().join("examples/block/xen"), &[])
        .join("mir-block_test-xen");
    let kv_ro_crunch =
        harness::build_kernels(&harness::root().join("examples/kv_ro_crunch/xen"), &[])
            .join("mir-kv_ro_crunch-xen");
    let kv_ro = harness::build_kernels(&harness::root().join("examples/kv_ro/xen"), &[])
        .join("mir-kv_ro-xen");
    let stackv4 = harness::build_kernels(&harness::root().join("examples/stackv4/xen"), &[])
        .join("mir-stackv4-xen");
    let website_dir =
        harness::build_kernels(&harness::root().join("examples/static_website/xen"), &[]);
    let website = website_dir.join("mir-static_website-xen");
    let tests = harness::build_kernels(&harness::root().join("mirage-xen/pv"), &["--examples"])
        .join("examples");
    let configs = tempfile::tempdir().unwrap();
    for (name, config) in [
        ("console", xl("console", "mir-console.xen", 32)),
        (
            "block_test",
            xl("block_test", "mir-block_test.xen", 32).disk("/tmp/disk.img"),
        ),
        ("panic", xl("panic", "panic.xen", 32)),
        ("idle", xl("idle", "idle.xen", 32)),
        ("overflow", xl("overflow", "overflow.xen", 32)),
        ("oom", xl("oom", "oom.xen", 32)),
        (
            "kv_ro_crunch",
            xl("kv_ro_crunch", "mir-kv_ro_crunch.xen", 32).extra("--count 3"),
        ),
        (
            "kv_ro-crunch",
            xl("kv_ro-crunch", "mir-kv_ro.xen", 32).extra("--kv-ro crunch --count 2"),
        ),
        (
            "kv_ro-fat",
            xl("kv_ro-fat", "mir-kv_ro.xen", 32)
                .disk("/tmp/fat1.img")
                .extra("--kv-ro fat --count 2"),
        ),
        (
            "stackv4",
            xl("stackv4", "mir-stackv4.xen", 32).bridge("xenbr0").extra(
                "--ip 169.254.100.2 --netmask 255.255.255.0 --gateways 169.254.100.1 \
                     --ipv6 fd00::2/64",
            ),
        ),
        (
            "stackv4-dhcp",
            xl("stackv4-dhcp", "mir-stackv4.xen", 32)
                .bridge("xenbr0")
                .extra("--dhcp true"),
        ),
        (
            "stackv4-badkey",
            xl("stackv4-badkey", "mir-stackv4.xen", 32)
                .bridge("xenbr0")
                .extra("--ip 224.0.0.1"),
        ),
        (
            "website",
            xl("website", "mir-static_website.xen", 64)
                .bridge("xenbr0")
                .extra(
                    "--ip 169.254.100.3 --netmask 255.255.255.0 --gateways 169.254.100.1 \
                     --ipv6 fd00::3/64 --header-timeout 3",
                ),
        ),
        (
            "website-tls",
            xl("website-tls", "mir-static_website.xen", 64)
                .bridge("xenbr0")
                .extra(
                    "--ip 169.254.100.3 --netmask 255.255.255.0 --gateways 169.254.100.1 \
                     --ipv6 fd00::3/64 --header-timeout 3 --https true",
                ),
        ),
    ] {
        let text = config.to_xl("Generated by mirage-xl.");
        std::fs::write(configs.path().join(name), text).unwrap();
    }
    let at = |name: &str| configs.path().join(name);
    // kv_ro's disk, made as the tutorial says (a FAT image of its t/), here with mkfs.fat
    // and mcopy.
    let fat1 = tempfile::tempdir().unwrap();
    let made = Command::new("sh")
        .arg("-c")
        .arg("mkfs.fat -C fat1.img 256 >/dev/null && mcopy -i fat1.img \"$T\"/a \"$T\"/b ::")
        .current_dir(fat1.path())
        .env("T", harness::root().join("examples/kv_ro/t"))
        .env("MTOOLS_SKIP_CHECK", "1")
        .status()
        .expect("sh runs");
    assert!(
        made.success(),
        "mkfs.fat and mcopy (dosfstools, mtools) make kv_ro's disk"
    );
    // Dom0's UDP line comes from the host's netcat (busybox's has no -u), its DHCP server
    // is the host's dnsmasq.
    let mut host_programs = harness::with_libraries("nc", Path::new("/usr/bin/nc.openbsd"));
    host_programs.extend(harness::with_libraries(
        "dnsmasq",
        Path::new("/usr/sbin/dnsmasq"),
    ));
    // The website's client: the host's curl (busybox's wget has no ranges or timings), and
    // sha256sum to check what it fetched.
    host_programs.extend(harness::with_libraries("curl", Path::new("/usr/bin/curl")));
    host_programs.extend(harness::with_libraries(
        "sha256sum",
        Path::new("/usr/bin/sha256sum"),
    ));
    let mut dom0_programs: Vec<(&str, &Path)> = host_programs
        .iter()
        .map(|(name, path)| (name.as_str(), path.as_path()))
        .collect();
    let kernels_and_configs: Vec<(&str, PathBuf)> = vec![
        ("mir-console.xen", console.clone()),
        ("mir-block_test.xen", block_test.clone()),
        ("block_test.xl", at("block_test")),
        ("panic.xen", tests.join("panic")),
        ("idle.xen", tests.join("idle")),
        ("console.xl", at("console")),
        ("panic.xl", at("panic")),
        ("idle.xl", at("idle")),
        ("overflow.xen", tests.join("overflow")),
        ("overflow.xl", at("overflow")),
        ("oom.xen", tests.join("oom")),
        ("oom.xl", at("oom")),
        ("mir-stackv4.xen", stackv4.clone()),
        ("stackv4.xl", at("stackv4")),
        ("stackv4-badkey.xl", at("stackv4-badkey")),
        ("stackv4-dhcp.xl", at("stackv4-dhcp")),
        ("mir-kv_ro_crunch.xen", kv_ro_crunch.clone()),
        ("kv_ro_crunch.xl", at("kv_ro_crunch")),
        ("mir-kv_ro.xen", kv_ro.clone()),
        ("kv_ro-crunch.xl", at("kv_ro-crunch")),
        ("kv_ro-fat.xl", at("kv_ro-fat")),
        ("fat1.img", fat1.path().join("fat1.img")),
        ("mir-static_website.xen", website.clone()),
        ("website.xl", at("website")),
        ("website-tls.xl", at("website-tls")),
        (
            "test-ca.pem",
            harness::root().join("examples/static_website/test-ca.pem"),
        ),
    ];
    dom0_programs.extend(
        kernels_and_configs
            .iter()
            .map(|(name, path)| (*name, path.as_path())),
    );
    let Some((output, log)) = harness::run_case(
        "domu-up-init",
        &[],
        &dom0_programs,
        "dom0-unikernel.sh",
        "unikernel-serial.log",
    ) else {
        return;
    };
    let serial = format!("serial log: {}", log.display());

    let lines = times(&output, "@@ console-line");
    let texts: Vec<&str> = lines.iter().map(|(_, text)| text.as_str()).collect();
    assert_eq!(texts, ["hello", "world"].repeat(4), "{serial}");
    // A second apart: `world` follows its `hello` after a sleep, and the next `hello` at
    // once, so from one `world` to the next is a second. (The first `hello` is timed late:
    // it waited for `xl console` to attach.)
    for pair in lines[1..].windows(3).step_by(2) {
        let gap = pair[2].0 - pair[0].0;
        assert!(
            (0.9..3.0).contains(&gap),
            "world to world took {gap} s; {serial}"
        );
    }
    assert_eq!(
        harness::value(&output, "@@ console-shutdown"),
        Some("shut down, reason code 0"),
        "{serial}"
    );

    let printed: String = harness::values(&output, "@@ block_test-console")
        .iter()
        .map(|line| format!("{line}\n"))
        .collect();
    assert_eq!(
        printed,
        include_str!("../../examples/block/tests/tutorial_output.txt"),
        "{serial}"
    );
    assert_eq!(
        harness::value(&output, "@@ block_test-shutdown"),
        Some("shut down, reason code 0"),
        "{serial}"
    );

    let panic: Vec<&str> = harness::values(&output, "@@ panic-console");
    assert!(panic.contains(&"about to panic"), "{panic:?}; {serial}");
    assert!(
        panic
            .iter()
            .any(|line| line.contains("the test kernel panics on purpose (None)")),
        "{panic:?}; {serial}"
    );
    assert!(
        harness::value(&output, "@@ panic-state").is_some_and(|state| state.contains('c')),
        "the panicked domain is not crashed; {serial}"
    );
    assert_eq!(
        harness::value(&output, "@@ panic-shutdown"),
        Some("shut down, reason code 3"),
        "{serial}"
    );

    let overflow = harness::values(&output, "@@ overflow-console");
    assert_eq!(overflow, ["about to overflow the stack"], "{serial}");
    assert!(
        harness::value(&output, "@@ overflow-state").is_some_and(|state| state.contains('c')),
        "a stack overflow did not crash the domain; {serial}"
    );
    assert!(
        harness::value(&output, "@@ overflow-xen").is_some_and(|line| line.contains("#PF")),
        "Xen saw no page fault; {serial}"
    );

    let oom = harness::values(&output, "@@ oom-console");
    assert_eq!(oom.first(), Some(&"about to exhaust the heap"), "{serial}");
    assert!(
        oom.iter()
            .any(|line| line.contains("memory allocation of 1048576 bytes failed")),
        "{oom:?}; {serial}"
    );
    assert!(
        harness::value(&output, "@@ oom-state").is_some_and(|state| state.contains('c')),
        "heap exhaustion did not crash the domain; {serial}"
    );

    // kv_ro_crunch: YES! three times, a second apart, then poweroff.
    let yes = times(&output, "@@ kv_ro_crunch-line");
    let texts: Vec<&str> = yes.iter().map(|(_, text)| text.as_str()).collect();
    assert_eq!(texts, ["YES!"; 3], "{serial}");
    for pair in yes.windows(2) {
        let gap = pair[1].0 - pair[0].0;
        // Lines are seen by polling the log every 50 ms, which a busy dom0 delays.
        assert!(
            (0.5..3.0).contains(&gap),
            "YES! to YES! took {gap} s; {serial}"
        );
    }
    assert_eq!(
        harness::value(&output, "@@ kv_ro_crunch-shutdown"),
        Some("shut down, reason code 0"),
        "{serial}"
    );

    // kv_ro: YES! from crunch, and from the FAT disk through our Blkfront.
    for store in ["crunch", "fat"] {
        let console = harness::values(&output, &format!("@@ kv_ro-{store}-console"));
        assert_eq!(console, ["YES!", "YES!"], "kv_ro --kv-ro {store}; {serial}");
        assert_eq!(
            harness::value(&output, &format!("@@ kv_ro-{store}-shutdown")),
            Some("shut down, reason code 0"),
            "{serial}"
        );
    }

    // stackv4: dom0's ping, UDP and TCP lines reach the direct stack on our Netfront, with
    // a static address from `extra =` and with a lease from dom0's dnsmasq.
    check_stackv4(&output, "stackv4", &[], "169.254.100.2", &serial);
    // Its fixed IPv6 address, beside the IPv4 one, answers dom0's ping -6.
    assert_eq!(
        harness::value(&output, "@@ stackv4-ping6"),
        Some("3 packets transmitted, 3 packets received"),
        "{serial}"
    );
    // A burst of 200 connections, more than its TCP memory holds at once, is served in
    // full, and the port answers after it.
    assert_eq!(
        harness::value(&output, "@@ stackv4-flood-served"),
        Some("200"),
        "{serial}"
    );
    assert_eq!(
        harness::value(&output, "@@ stackv4-after-flood"),
        Some("1"),
        "{serial}"
    );
    let dhcp = harness::values(&output, "@@ stackv4-dhcp-console");
    let leased = dhcp
        .iter()
        .find_map(|line| line.strip_prefix("DHCP offer received and bound to "))
        .and_then(|rest| rest.split(' ').next())
        .unwrap_or_else(|| panic!("no lease on the console: {dhcp:?}; {serial}"));
    let lease_line =
        format!("DHCP offer received and bound to {leased} nm 255.255.255.0 gw [169.254.100.1]");
    check_stackv4(&output, "stackv4-dhcp", &[&lease_line], leased, &serial);
    // A bad key ends the domain crashed, the reason on its console.
    let badkey = harness::values(&output, "@@ stackv4-badkey-console");
    assert!(
        badkey
            .iter()
            .any(|line| line.contains("invalid value '224.0.0.1' for '--ip'")
                && line.contains("multicast")),
        "{badkey:?}; {serial}"
    );
    assert!(
        harness::value(&output, "@@ stackv4-badkey-state").is_some_and(|state| state.contains('c')),
        "a bad key did not crash the domain; {serial}"
    );

    check_website(&output, "website", false, &website_dir, &serial);
    check_website(&output, "website-tls", true, &website_dir, &serial);

    let cpu = |key| {
        let (time, seconds) = times(&output, key).pop().expect(key);
        (time, seconds.parse::<f64>().expect("CPU seconds"))
    };
    let ((start, cpu_start), (end, cpu_end)) = (cpu("@@ idle-cpu-start"), cpu("@@ idle-cpu-end"));
    assert!(
        cpu_end - cpu_start <= 0.2,
        "an idle guest used {:.1} s of CPU in {:.1} s; {serial}",
        cpu_end - cpu_start,
        end - start
    );

    let first_line = lines[0].0
        - harness::value(&output, "@@ console-t0")
            .unwrap()
            .parse::<f64>()
            .unwrap();
    let between = |key| {
        harness::value(&output, key)
            .and_then(|v| v.split_once(' '))
            .map(|(a, b)| b.parse::<f64>().unwrap() - a.parse::<f64>().unwrap())
    };
    let (warm, linux) = (
        between("@@ idle-first-line-after"),
        between("@@ linux-init-after"),
    );
    eprintln!(
        "figures: kernel images {} bytes (console), {} bytes (block_test); xl create -> \
         first console line {first_line:.2} s; stackv4 {} bytes; website {} bytes, xl create -> \
         first answered request {:?} s (HTTP), {:?} s (HTTPS), the {} MiB file at {:?} bytes/s \
         (HTTP), {:?} (HTTPS); ping {:?} (the boot's first domain, paused, console \
         attached), {warm:?} s (warm); a Linux PV domU: xl create -> /init {linux:?} s; \
         first instruction to main {:?} (32 MiB), {:?} (256 MiB); smallest memory {:?} MiB \
         (idle), {:?} (console, block_test, kv_ro_crunch, kv_ro on FAT, stackv4, website); idle CPU {:.2} s over {:.1} s",
        std::fs::metadata(&console).unwrap().len(),
        std::fs::metadata(&block_test).unwrap().len(),
        std::fs::metadata(&stackv4).unwrap().len(),
        std::fs::metadata(&website).unwrap().len(),
        between("@@ website-first-answer"),
        between("@@ website-tls-first-answer"),
        website_large_file(&website_dir).len() >> 20,
        harness::value(&output, "@@ website-large").and_then(|v| v.split(' ').nth(2)),
        harness::value(&output, "@@ website-tls-large").and_then(|v| v.split(' ').nth(2)),
        harness::value(&output, "@@ stackv4-rtt"),
        harness::value(&output, "@@ idle-boot"),
        harness::value(&output, "@@ big-boot"),
        harness::value(&output, "@@ smallest-memory"),
        [
            "console",
            "block_test",
            "kv_ro_crunch",
            "kv_ro-fat",
            "stackv4",
            "website"
        ]
        .map(|name| harness::value(&output, &format!("@@ smallest-{name}"))),
        cpu_end - cpu_start,
        end - start
    );
}
