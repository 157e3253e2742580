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
    /// The lines it printed before the one saying where it listens.
    pub said: Vec<String>,
    /// The line saying where it serves HTTP.
    pub listening: String,
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
            said: Vec::new(),
            listening: String::new(),
        };
        // What comes before (a DHCP lease, said by the stack) is kept in `said`.
        let mut first = server.line();
        while !first.starts_with("HTTP on port ") {
            server.said.push(first);
            first = server.line();
        }
        let port = |line: &str| -> u16 {
            line.split_whitespace()
                .nth(3)
                .and_then(|p| p.parse().ok())
                .unwrap_or_else(|| panic!("a port in {line:?}"))
        };
        server.http = port(&first);
        server.listening = first.clone();
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

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its resident memory now and at its peak, in KiB.
    pub fn memory_kib(&self) -> (u64, u64) {
        memory_kib(self.pid())
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

/// A namespace with `tap0` at 10.0.0.1/24 (the direct stack takes 10.0.0.2), removed on
/// drop. `None`, said, without root or `ip`.
pub struct Namespace(pub String);

impl Namespace {
    /// Makes one named after `tag` and this process.
    pub fn new(tag: &str) -> Option<Namespace> {
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("skipped: network namespace tests need root");
            return None;
        }
        if !have("ip") {
            return None;
        }
        // Tests of one binary run at once, several with the same tag: a count keeps their
        // namespaces apart (one test's drop would delete another's).
        static MADE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = MADE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let namespace = Namespace(format!("mirage-{tag}-{}-{n}", std::process::id()));
        let run = |args: &[&str]| {
            let status = Command::new("ip").args(args).status().unwrap();
            assert!(status.success(), "ip {args:?}");
        };
        run(&["netns", "add", &namespace.0]);
        for setup in [
            "link set lo up",
            "tuntap add tap0 mode tap",
            "addr add 10.0.0.1/24 dev tap0",
            "link set tap0 up",
        ] {
            let mut args = vec!["netns", "exec", &namespace.0, "ip"];
            args.extend(setup.split(' '));
            run(&args);
        }
        Some(namespace)
    }

    /// The command prefix that runs a program inside.
    pub fn exec(&self) -> [&str; 4] {
        ["ip", "netns", "exec", &self.0]
    }

    /// Runs `work` on a thread that has joined the namespace (so its sockets are inside).
    pub fn run<T: Send>(&self, work: impl FnOnce() -> T + Send) -> T {
        std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    let handle = std::fs::File::open(format!("/var/run/netns/{}", self.0)).unwrap();
                    // SAFETY: moves only this thread into the namespace.
                    let joined = unsafe {
                        libc::setns(std::os::fd::AsRawFd::as_raw_fd(&handle), libc::CLONE_NEWNET)
                    };
                    assert_eq!(joined, 0, "setns");
                    work()
                })
                .join()
                .unwrap()
        })
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

/// Where a test reaches the site: the socket stack on loopback, or the direct stack on a
/// tap device in a namespace.
pub struct Target {
    /// The server.
    pub server: Server,
    /// The address of its HTTP port.
    pub addr: std::net::SocketAddrV4,
    /// The namespace, for the direct stack.
    pub namespace: Option<Namespace>,
}

impl Target {
    /// The site on `stack` (`"socket"` or `"direct"`) with `args` more, run in `dir`;
    /// `None` (said) for the direct stack without root.
    pub fn start(stack: &str, args: &[&str], dir: &Path) -> Option<Target> {
        let (namespace, mut all): (Option<Namespace>, Vec<&str>) = match stack {
            "socket" => (None, vec!["--interfaces", "127.0.0.1", "--http-port", "0"]),
            _ => (Some(Namespace::new("site")?), vec!["--net", "direct"]),
        };
        all.extend_from_slice(args);
        let prefix: Vec<&str> = namespace.iter().flat_map(|n| n.exec()).collect();
        let server = Server::start(&prefix, &all, dir);
        let host = match namespace {
            Some(_) => std::net::Ipv4Addr::new(10, 0, 0, 2),
            None => std::net::Ipv4Addr::LOCALHOST,
        };
        let addr = std::net::SocketAddrV4::new(host, server.http);
        Some(Target {
            server,
            addr,
            namespace,
        })
    }

    /// Runs `work` where the site can be reached.
    pub fn client<T: Send>(&self, work: impl FnOnce(std::net::SocketAddrV4) -> T + Send) -> T {
        let addr = self.addr;
        match &self.namespace {
            Some(namespace) => namespace.run(move || work(addr)),
            None => work(addr),
        }
    }
}

/// An HTTP response as a test reads it.
#[derive(Debug)]
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// The head's lines after the status line.
    pub headers: Vec<String>,
    /// The body (as long as `Content-Length` says).
    pub body: Vec<u8>,
}

impl Answer {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name).then(|| value.trim())
        })
    }
}

/// Reads one response from `stream` (its head, then `Content-Length` bytes of body unless
/// `head_only`).
pub fn read_answer(stream: &mut impl std::io::Read, head_only: bool) -> Answer {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(
            stream.read(&mut byte).unwrap(),
            1,
            "the head ended early: {head:?}"
        );
        head.push(byte[0]);
    }
    let text = String::from_utf8(head).unwrap();
    let mut lines = text.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<String> = lines.filter(|l| !l.is_empty()).map(str::to_owned).collect();
    let mut answer = Answer {
        status,
        headers,
        body: Vec::new(),
    };
    if !head_only && let Some(length) = answer.header("content-length") {
        let mut body = vec![0u8; length.parse().unwrap()];
        stream.read_exact(&mut body).unwrap();
        answer.body = body;
    }
    answer
}

/// One request for `path` with `extra` header lines, on a connection of its own.
pub fn get(addr: std::net::SocketAddrV4, path: &str, extra: &[&str]) -> Answer {
    use std::io::Write;
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: site\r\nConnection: close\r\n");
    for line in extra {
        request.push_str(line);
        request.push_str("\r\n");
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    read_answer(&mut stream, false)
}

/// Raises this process's open-file limit to its hard limit (children inherit it); the limit.
pub fn raise_file_limit() -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain calls on a local struct.
    unsafe {
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit);
        limit.rlim_cur = limit.rlim_max;
        libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
    }
    limit.rlim_cur
}

/// The resident memory of process `pid` now and at its peak, in KiB (`VmRSS`, `VmHWM`).
pub fn memory_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| -> u64 {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kib| kib.parse().ok())
            .unwrap_or_else(|| panic!("{name} in {status}"))
    };
    (field("VmRSS:"), field("VmHWM:"))
}
