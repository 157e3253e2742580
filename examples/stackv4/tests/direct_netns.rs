//! `mir-stackv4 --net direct` on a tap device inside a network namespace made for the test,
//! reached by the kernel's own `ping` and `nc`, and leased an address by `dnsmasq`.
//!
//! These need root (to make namespaces and tap devices); elsewhere they say so and skip.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

/// A network namespace with `tap0` at 10.0.0.1/24 on the host side, removed on drop.
struct Namespace {
    name: String,
    children: Vec<Child>,
}

impl Namespace {
    fn new(tag: &str) -> Option<Namespace> {
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("skipped: network namespace tests need root");
            return None;
        }
        for tool in ["ip", "ping", "nc"] {
            let found = Command::new("sh")
                .arg("-c")
                .arg(format!("command -v {tool}"))
                .output();
            if !found.is_ok_and(|o| o.status.success()) {
                eprintln!(
                    "skipped: {tool} is not installed (iproute2, iputils-ping, netcat-openbsd)"
                );
                return None;
            }
        }
        let name = format!("mirage-{tag}-{}", std::process::id());
        let namespace = Namespace {
            name,
            children: Vec::new(),
        };
        run_ok(Command::new("ip").args(["netns", "add", &namespace.name]));
        for setup in [
            "ip link set lo up",
            "ip tuntap add tap0 mode tap",
            "ip addr add 10.0.0.1/24 dev tap0",
            "ip link set tap0 up",
        ] {
            namespace.exec_ok(setup);
        }
        Some(namespace)
    }

    fn command(&self, script: &str) -> Command {
        let mut command = Command::new("ip");
        command.args(["netns", "exec", &self.name, "sh", "-c", script]);
        command
    }

    fn exec_ok(&self, script: &str) -> Output {
        run_ok(&mut self.command(script))
    }

    /// Starts the example in the namespace; its stdout arrives line by line.
    fn start(&mut self, args: &str) -> Receiver<String> {
        self.start_program(env!("CARGO_BIN_EXE_mir-stackv4"), args)
    }

    /// Starts `program` with the direct stack in the namespace; its stdout line by line.
    fn start_program(&mut self, program: &str, args: &str) -> Receiver<String> {
        let script = format!("exec {program} --net direct {args}");
        let mut child = self
            .command(&script)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        self.children.push(child);
        let (sender, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                if sender.send(line.unwrap()).is_err() {
                    break;
                }
            }
        });
        lines
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

fn run_ok(command: &mut Command) -> Output {
    let output = command.output().unwrap();
    assert!(output.status.success(), "{command:?}: {output:?}");
    output
}

fn line(lines: &Receiver<String>) -> String {
    lines
        .recv_timeout(Duration::from_secs(15))
        .expect("no line from mir-stackv4 in 15 s")
}

#[test]
fn ping_udp_and_tcp_reach_the_static_stack() {
    let Some(mut namespace) = Namespace::new("static") else {
        return;
    };
    let capture = tempfile::NamedTempFile::new().unwrap();
    let lines = namespace.start(&format!("--pcap {}", capture.path().display()));
    assert_eq!(line(&lines), "IP address: 10.0.0.2");
    assert_eq!(line(&lines), "");

    let ping = namespace.exec_ok("ping -c 3 -i 0.2 -W 2 10.0.0.2");
    let report = String::from_utf8_lossy(&ping.stdout);
    assert!(
        report.contains("3 packets transmitted, 3 received"),
        "{report}"
    );

    namespace.exec_ok("echo -n hello udp world | nc -u -w1 -p 40053 10.0.0.2 53");
    assert_eq!(
        line(&lines),
        "UDP 10.0.0.1:40053 > 10.0.0.2:53: \"hello udp world\""
    );
    namespace.exec_ok("echo -n hello tcp world | nc -w1 -p 40080 10.0.0.2 8080");
    assert_eq!(line(&lines), "TCP 10.0.0.1:40080 > _:8080");
    assert_eq!(line(&lines), "read: 15 \"hello tcp world\"");
    let recorded = std::fs::read(capture.path()).unwrap();
    assert!(
        recorded.len() > 24 + 10 * 16,
        "the capture holds the frames"
    );
    assert!(recorded.windows(15).any(|w| w == b"hello tcp world"));
}

#[test]
fn dnsmasq_leases_an_address_in_under_a_second() {
    let Some(mut namespace) = Namespace::new("dhcp") else {
        return;
    };
    if !Command::new("sh")
        .arg("-c")
        .arg("command -v dnsmasq")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        eprintln!("skipped: dnsmasq is not installed (dnsmasq-base)");
        return;
    }
    let leases = tempfile::NamedTempFile::new().unwrap();
    let dnsmasq = namespace
        .command(&format!(
            "exec dnsmasq --no-daemon --port=0 --interface=tap0 --bind-interfaces \
             --dhcp-range=10.0.0.50,10.0.0.60,255.255.255.0,1h --dhcp-leasefile={} \
             --dhcp-authoritative --no-ping --log-facility=-",
            leases.path().display()
        ))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    namespace.children.push(dnsmasq);
    // Wait until dnsmasq listens on the DHCP port: a DISCOVER sent before is lost, and the
    // stack's next one comes only after its retry interval (a fixed 300 ms wait lost that
    // race under CI's load).
    let listening = namespace
        .command(
            "for _ in $(seq 200); do ss -Hlun 'sport = :67' | grep -q . && exit 0; sleep 0.05; done; exit 1",
        )
        .status()
        .is_ok_and(|s| s.success());
    assert!(listening, "dnsmasq did not listen on port 67 within 10 s");
    let start = Instant::now();
    let lines = namespace.start("--dhcp true");
    let bound = line(&lines);
    let elapsed = start.elapsed();
    let address = bound
        .strip_prefix("DHCP offer received and bound to ")
        .and_then(|rest| rest.split(' ').next())
        .unwrap_or_else(|| panic!("unexpected line: {bound}"))
        .to_owned();
    assert!(
        address.starts_with("10.0.0.5") || address.starts_with("10.0.0.60"),
        "{bound}"
    );
    assert!(bound.ends_with("nm 255.255.255.0 gw [10.0.0.1]"), "{bound}");
    assert!(elapsed < Duration::from_secs(1), "lease took {elapsed:?}");
    assert_eq!(line(&lines), format!("IP address: {address}"));
    assert_eq!(line(&lines), "");
    namespace.exec_ok(&format!("echo -n leased | nc -w1 {address} 8080"));
    assert!(line(&lines).starts_with("TCP 10.0.0.1:"));
    assert_eq!(line(&lines), "read: 6 \"leased\"");
}

/// Opens a connection, floods the stack with 10,000 SYNs from spoofed addresses through a
/// raw socket, then sends on the connection opened before.
const FLOOD: &str = r#"
import random, socket, struct, sys, time

def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF

client = socket.create_connection(("10.0.0.2", 8080), timeout=10)
raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
destination = socket.inet_aton("10.0.0.2")
for i in range(10000):
    source = socket.inet_aton("10.0.0.%d" % random.randint(100, 250))
    tcp = struct.pack("!HHIIBBHHH", random.randint(1024, 65535), 8080, random.getrandbits(32), 0, 5 << 4, 0x02, 65535, 0, 0)
    pseudo = source + destination + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", checksum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), i & 0xFFFF, 0, 64, 6, 0, source, destination)
    raw.sendto(ip + tcp, ("10.0.0.2", 0))
client.sendall(b"after flood")
client.close()
"#;

#[test]
fn a_syn_flood_from_the_namespace_does_not_stop_an_established_connection() {
    let Some(mut namespace) = Namespace::new("flood") else {
        return;
    };
    if !Command::new("sh")
        .arg("-c")
        .arg("command -v python3")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        eprintln!("skipped: python3 is needed to send the flood");
        return;
    }
    let lines = namespace.start("");
    assert_eq!(line(&lines), "IP address: 10.0.0.2");
    assert_eq!(line(&lines), "");
    let script = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(script.path(), FLOOD).unwrap();
    namespace.exec_ok(&format!("python3 {}", script.path().display()));
    assert!(line(&lines).starts_with("TCP 10.0.0.1:"));
    assert_eq!(line(&lines), "read: 11 \"after flood\"");
}

#[test]
fn a_tap_device_deleted_under_the_stack_ends_it_with_an_error() {
    let Some(mut namespace) = Namespace::new("vanish") else {
        return;
    };
    let lines = namespace.start("--udp-port 5353");
    assert_eq!(line(&lines), "IP address: 10.0.0.2");
    namespace.exec_ok("ip link del tap0");
    let child = namespace.children.last_mut().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "mir-stackv4 still runs 10 s after its tap device went"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(!status.success(), "{status:?}");
}

#[test]
fn a_mistyped_network_is_refused_not_created() {
    let Some(namespace) = Namespace::new("typo") else {
        return;
    };
    let output = namespace
        .command(&format!(
            "{} --net direct --network tapo",
            env!("CARGO_BIN_EXE_mir-stackv4")
        ))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("tapo does not exist"), "{stderr}");
    let shown = namespace.command("ip link show tapo").output().unwrap();
    assert!(!shown.status.success(), "tapo was created");
}

#[test]
fn the_dual_stack_sibling_is_reached_over_ipv6_and_ipv4_on_the_same_ports() {
    let Some(mut namespace) = Namespace::new("dual") else {
        return;
    };
    namespace.exec_ok("ip -6 addr add fd00::1/64 dev tap0 nodad");
    let lines = namespace.start_program(
        env!("CARGO_BIN_EXE_mir-stackv4v6"),
        "--ipv6 fd00::2/64 --accept-router-advertisements false",
    );
    let addresses = line(&lines);
    assert!(
        addresses.starts_with("IP addresses: 10.0.0.2/24, fe80::")
            && addresses.ends_with("/64, fd00::2/64"),
        "{addresses}"
    );
    assert_eq!(line(&lines), "");

    let ping = namespace.exec_ok("ping -6 -c 3 -i 0.2 -W 2 fd00::2");
    let report = String::from_utf8_lossy(&ping.stdout);
    assert!(
        report.contains("3 packets transmitted, 3 received"),
        "{report}"
    );

    namespace.exec_ok("echo -n hello udp6 | nc -6 -u -w1 -s fd00::1 -p 40053 fd00::2 53");
    assert_eq!(
        line(&lines),
        "UDP [fd00::1]:40053 > [fd00::2]:53: \"hello udp6\""
    );
    namespace.exec_ok("echo -n hello tcp6 | nc -6 -w1 -s fd00::1 -p 40080 fd00::2 8080");
    assert_eq!(line(&lines), "TCP [fd00::1]:40080 > _:8080");
    assert_eq!(line(&lines), "read: 10 \"hello tcp6\"");
    namespace.exec_ok("echo -n hello tcp4 | nc -4 -w1 -p 40081 10.0.0.2 8080");
    assert_eq!(line(&lines), "TCP 10.0.0.1:40081 > _:8080");
    assert_eq!(line(&lines), "read: 10 \"hello tcp4\"");
    namespace.exec_ok("echo -n hello udp4 | nc -4 -u -w1 -p 40054 10.0.0.2 53");
    assert_eq!(
        line(&lines),
        "UDP 10.0.0.1:40054 > 10.0.0.2:53: \"hello udp4\""
    );
}

#[test]
fn an_ipv6_address_the_kernel_has_is_reported_and_not_taken() {
    let Some(mut namespace) = Namespace::new("dad") else {
        return;
    };
    namespace.exec_ok("ip -6 addr add fd00::1/64 dev tap0 nodad");
    let lines = namespace.start_program(
        env!("CARGO_BIN_EXE_mir-stackv4v6"),
        "--ipv6 fd00::1/64 --accept-router-advertisements false",
    );
    assert_eq!(
        line(&lines),
        "IPv6 address fd00::1 is in use by another host: not taken"
    );
    let addresses = line(&lines);
    assert!(
        addresses.starts_with("IP addresses: 10.0.0.2/24, fe80::") && !addresses.contains("fd00"),
        "{addresses}"
    );
}

#[test]
fn mir_ping6_pings_the_kernel_over_ipv6_and_ipv4_and_says_when_nothing_answers() {
    let Some(namespace) = Namespace::new("ping6") else {
        return;
    };
    namespace.exec_ok("ip -6 addr add fd00::1/64 dev tap0 nodad");
    let ping = |target: &str| {
        namespace
            .command(&format!(
                "exec {} --ipv6 fd00::2/64 --accept-router-advertisements false \
                 --count 3 --interval 300 {target}",
                env!("CARGO_BIN_EXE_mir-ping6")
            ))
            .output()
            .unwrap()
    };
    for target in ["fd00::1", "10.0.0.1"] {
        let output = ping(target);
        let printed = String::from_utf8_lossy(&output.stdout);
        let lines: Vec<&str> = printed.lines().collect();
        assert!(output.status.success(), "{output:?}");
        assert_eq!(lines[0], format!("PING {target} 56 data bytes"));
        // The first request may go while the kernel's address is looked up; the others
        // are answered.
        let replies: Vec<&&str> = lines
            .iter()
            .filter(|l| l.starts_with(&format!("64 bytes from {target}: icmp_seq=")))
            .collect();
        assert!(replies.len() >= 2, "{printed}");
        assert_eq!(
            lines[lines.len() - 2],
            format!("--- {target} ping statistics ---")
        );
        assert!(
            lines[lines.len() - 1].starts_with("3 packets transmitted"),
            "{printed}"
        );
    }
    let output = ping("fd00::99");
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success());
    assert!(
        printed.ends_with("3 packets transmitted, 0 received, 100% packet loss\n"),
        "{printed}"
    );
}
