//! `mir-stackv4 --net socket` driven by the real `nc` (netcat-openbsd), checking the exact
//! lines it prints.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::Duration;

struct Running {
    child: Child,
    lines: Receiver<String>,
    udp_port: u16,
    tcp_port: u16,
}

impl Running {
    fn line(&self) -> String {
        match self.lines.recv_timeout(Duration::from_secs(10)) {
            Ok(line) => line,
            Err(RecvTimeoutError::Timeout) => panic!("no line from mir-stackv4 in 10 s"),
            Err(RecvTimeoutError::Disconnected) => panic!("mir-stackv4 stopped"),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn(udp_port: u16, tcp_port: u16, extra: &[&str]) -> Running {
    spawn_program(env!("CARGO_BIN_EXE_mir-stackv4"), udp_port, tcp_port, extra)
}

fn spawn_program(program: &str, udp_port: u16, tcp_port: u16, extra: &[&str]) -> Running {
    let mut child = Command::new(program)
        .args(["--net", "socket", "--udp-port", &udp_port.to_string()])
        .args(["--tcp-port", &tcp_port.to_string()])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (sender, lines) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if sender.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    Running {
        child,
        lines,
        udp_port,
        tcp_port,
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts the example on the tutorial's ports 53 and 8080 where this process may bind them
/// (as root, with the ports free), on free high ports otherwise.
fn start(extra: &[&str]) -> Option<Running> {
    if Command::new("nc").arg("-h").output().is_err() {
        eprintln!("skipped: nc (netcat-openbsd) is not installed");
        return None;
    }
    for (udp, tcp) in [(53, 8080), (free_port(), free_port())] {
        let mut running = spawn(udp, tcp, extra);
        assert_eq!(running.line(), "IP address: 0.0.0.0");
        assert_eq!(running.line(), "");
        std::thread::sleep(Duration::from_millis(300));
        match running.child.try_wait().unwrap() {
            None => return Some(running),
            Some(_) => eprintln!("ports {udp}/{tcp} not available here; using free ports"),
        }
    }
    panic!("mir-stackv4 could not listen on free ports either");
}

fn shell(script: &str) {
    let status = Command::new("sh").arg("-c").arg(script).status().unwrap();
    assert!(status.success(), "{script}");
}

#[test]
fn udp_and_tcp_lines_are_the_tutorials() {
    let Some(running) = start(&[]) else { return };
    let (udp, tcp) = (running.udp_port, running.tcp_port);
    // Source ports chosen fresh: a fixed one may still be in TIME_WAIT from an earlier run.
    let (from_udp, from_tcp) = (free_port(), free_port());
    shell(&format!(
        "echo -n hello udp world | nc -u -w1 -p {from_udp} 127.0.0.1 {udp}"
    ));
    assert_eq!(
        running.line(),
        format!("UDP 127.0.0.1:{from_udp} > 0.0.0.0:{udp}: \"hello udp world\"")
    );
    shell(&format!(
        "echo -n hello tcp world | nc -w1 -p {from_tcp} 127.0.0.1 {tcp}"
    ));
    assert_eq!(
        running.line(),
        format!("TCP 127.0.0.1:{from_tcp} > _:{tcp}")
    );
    assert_eq!(running.line(), "read: 15 \"hello tcp world\"");
}

#[test]
fn colours_with_color_always() {
    let Some(running) = start(&["--color", "always"]) else {
        return;
    };
    let tcp = running.tcp_port;
    // Connect and close without sending: the read sees the end of the stream.
    let from = free_port();
    shell(&format!("nc -z -w1 -p {from} 127.0.0.1 {tcp}"));
    assert_eq!(
        running.line(),
        format!("\x1b[32mTCP 127.0.0.1:{from} > _:{tcp}\x1b[m")
    );
    assert_eq!(running.line(), "\x1b[31mread: eof\x1b[m");
}

#[test]
fn a_bad_tap_device_name_is_a_clear_error() {
    let output = Command::new(env!("CARGO_BIN_EXE_mir-stackv4"))
        .args(["--net", "direct", "--network", "no/such/tap"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("not a valid interface name"), "{stderr}");
}

#[test]
fn the_dual_stack_sibling_prints_ipv6_and_ipv4_peers_on_one_pair_of_ports() {
    if Command::new("nc").arg("-h").output().is_err() {
        eprintln!("skipped: nc (netcat-openbsd) is not installed");
        return;
    }
    let (udp, tcp) = (free_port(), free_port());
    let running = spawn_program(env!("CARGO_BIN_EXE_mir-stackv4v6"), udp, tcp, &[]);
    // On the socket stack, the host's addresses with their prefixes (loopback among them).
    let addresses = running.line();
    assert!(
        addresses.starts_with("IP addresses: ")
            && addresses.contains("127.0.0.1/8")
            && addresses.contains("::1/128"),
        "{addresses}"
    );
    assert_eq!(running.line(), "");
    std::thread::sleep(Duration::from_millis(300));
    let (from_udp, from_tcp, from_tcp4) = (free_port(), free_port(), free_port());
    shell(&format!(
        "echo -n hello udp6 | nc -6 -u -w1 -p {from_udp} ::1 {udp}"
    ));
    assert_eq!(
        running.line(),
        format!("UDP [::1]:{from_udp} > [::]:{udp}: \"hello udp6\"")
    );
    shell(&format!(
        "echo -n hello tcp6 | nc -6 -w1 -p {from_tcp} ::1 {tcp}"
    ));
    assert_eq!(running.line(), format!("TCP [::1]:{from_tcp} > _:{tcp}"));
    assert_eq!(running.line(), "read: 10 \"hello tcp6\"");
    shell(&format!(
        "echo -n hello tcp4 | nc -4 -w1 -p {from_tcp4} 127.0.0.1 {tcp}"
    ));
    assert_eq!(
        running.line(),
        format!("TCP 127.0.0.1:{from_tcp4} > _:{tcp}")
    );
    assert_eq!(running.line(), "read: 10 \"hello tcp4\"");
}
