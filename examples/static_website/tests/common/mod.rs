//! Running `mir-static_website` and `curl` against it, for the tests.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

/// The test CA that signed the compiled-in server certificate.
pub fn test_ca() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("test-ca.pem")
}

/// Whether `tool` is installed; says so and returns false where it is not.
pub fn have(tool: &str) -> bool {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        eprintln!("skipped: {tool} is not installed");
    }
    found
}

/// A running server, killed on drop.
pub struct Server {
    child: Child,
    lines: Receiver<String>,
    /// The HTTP port it listens on.
    pub http: u16,
    /// The HTTPS port, if on.
    pub https: Option<u16>,
}

impl Server {
    /// Starts the server with `args` (through `prefix`, such as `ip netns exec NAME`, if
    /// given), on ports it reports, and waits until it listens.
    pub fn start(prefix: &[&str], args: &[&str], dir: &Path) -> Server {
        let binary = env!("CARGO_BIN_EXE_mir-static_website");
        let mut command = match prefix.split_first() {
            Some((first, rest)) => {
                let mut command = Command::new(first);
                command.args(rest).arg(binary);
                command
            }
            None => Command::new(binary),
        };
        let mut child = command
            .args(args)
            .current_dir(dir)
            .stdout(Stdio::piped())
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
        let mut server = Server {
            child,
            lines,
            http: 0,
            https: None,
        };
        let first = server.line();
        let port = |line: &str| -> u16 {
            line.split_whitespace()
                .nth(3)
                .and_then(|p| p.parse().ok())
                .unwrap_or_else(|| panic!("a port in {line:?}"))
        };
        assert!(first.starts_with("HTTP on port "), "{first}");
        server.http = port(&first);
        if first.contains("HTTPS") {
            let second = server.line();
            assert!(second.starts_with("HTTPS on port "), "{second}");
            server.https = Some(port(&second));
        }
        server
    }

    /// The next line it printed.
    pub fn line(&self) -> String {
        self.lines
            .recv_timeout(Duration::from_secs(30))
            .expect("a line from mir-static_website within 30 s")
    }

    /// Whether it is still running.
    pub fn running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `curl -s` with `args` (through `prefix`), with a 30 s limit.
pub fn curl(prefix: &[&str], args: &[&str]) -> Output {
    let mut command = match prefix.split_first() {
        Some((first, rest)) => {
            let mut command = Command::new(first);
            command.args(rest).arg("curl");
            command
        }
        None => Command::new("curl"),
    };
    command
        .args(["-s", "--max-time", "30"])
        .args(args)
        .output()
        .unwrap()
}

/// `curl`'s output (stdout) as text, asserting it succeeded.
pub fn curl_ok(prefix: &[&str], args: &[&str]) -> String {
    let output = curl(prefix, args);
    assert!(output.status.success(), "curl {args:?}: {output:?}");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The SHA-256 of `data`, in hex.
pub fn sha256(data: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The compiled-in site written to `dir/site`, and its FAT image `dir/site.img`.
pub fn site_and_image(dir: &Path) {
    let binary = env!("CARGO_BIN_EXE_mir-static_website");
    let status = Command::new(binary)
        .args(["--write-site", "site"])
        .current_dir(dir)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let size = mirage_unix::run(mirage_fat_image::build(
        &dir.join("site"),
        &dir.join("site.img"),
    ))
    .unwrap();
    assert!(size > 6 * 1024 * 1024);
}
