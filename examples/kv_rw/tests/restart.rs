//! `mir-kv_rw` on the socket stack with each store: requests answered as documented, and the
//! data still there after the process is killed (SIGKILL, no chance to tidy up) and started
//! again, except in memory.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The example, running; killed on drop.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(args: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_mir-kv_rw"))
            .args(["--port", "0", "--interfaces", "127.0.0.1"])
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        let port = first
            .trim()
            .strip_prefix("kv_rw: listening on 127.0.0.1:")
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
            .parse()
            .unwrap();
        Server { child, port }
    }

    fn talk(&self, requests: &str) -> Vec<String> {
        talk(self.port, requests)
    }

    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends `requests` (one per line) on a new connection to `port` and returns every answer
/// line until the server closes it.
fn talk(port: u16, requests: &str) -> Vec<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(requests.as_bytes()).unwrap();
    BufReader::new(stream)
        .lines()
        .map(|line| line.unwrap())
        .collect()
}

/// Writes, is killed, starts again: whether the data came back.
fn survives_a_restart(args: &[&str]) -> bool {
    let server = Server::start(args);
    assert_eq!(
        server.talk("SET greeting hello world\nSET dir/a 1\nMV dir/a dir/b\nGET greeting\nLIST dir\nGET nope\nSET a:b x\nPUT x\nQUIT\n"),
        [
            "OK",
            "OK",
            "OK",
            "VALUE hello world",
            "ENTRY b value",
            "END",
            "ERR NotFound: unknown key: nope",
            // Only FAT refuses ':'; the others store it.
            if args.contains(&"fat") {
                "ERR InvalidInput: key \"a:b\" is not allowed: FAT names may not contain ':' (nor any of \" * : < > ? \\ | or control characters)"
            } else {
                "OK"
            },
            "ERR InvalidInput: unknown command \"PUT\" (SET, GET, DEL, MV, LIST, QUIT)",
            "BYE",
        ]
    );
    server.kill();
    let again = Server::start(args);
    let answers = again.talk("GET greeting\nGET dir/b\nQUIT\n");
    if answers == ["VALUE hello world", "VALUE 1", "BYE"] {
        return true;
    }
    assert_eq!(
        answers,
        [
            "ERR NotFound: unknown key: greeting",
            "ERR NotFound: unknown key: dir/b",
            "BYE"
        ]
    );
    false
}

#[test]
fn fat_keeps_its_data_across_a_kill() {
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("store.img");
    let image = image.to_str().unwrap();
    assert!(survives_a_restart(&[
        "--kv-rw",
        "fat",
        "--image",
        image,
        "--image-mib",
        "4"
    ]));
    // The image is a FAT filesystem other tools read.
    if let Ok(out) = Command::new("fsck.fat").args(["-n", image]).output() {
        assert!(out.status.success(), "{out:?}");
    }
}

#[test]
fn direct_keeps_its_data_across_a_kill() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data");
    assert!(survives_a_restart(&[
        "--kv-rw",
        "direct",
        "--dir",
        path.to_str().unwrap()
    ]));
    assert_eq!(
        std::fs::read(path.join("greeting")).unwrap(),
        b"hello world"
    );
}

#[test]
fn mem_forgets_on_restart() {
    assert!(!survives_a_restart(&["--kv-rw", "mem"]));
}

#[test]
fn many_clients_at_once_and_a_line_without_end() {
    let server = Server::start(&["--kv-rw", "mem"]);
    // A client that sends 100 KB without a newline is refused, and others are served meanwhile.
    let mut flood = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    flood.write_all(&vec![b'x'; 100_000]).unwrap();
    let clients: Vec<_> = (0..20)
        .map(|n| {
            let port = server.port;
            std::thread::spawn(move || talk(port, &format!("SET k{n} v{n}\nGET k{n}\nQUIT\n")))
        })
        .collect();
    for (n, client) in clients.into_iter().enumerate() {
        assert_eq!(
            client.join().unwrap(),
            ["OK", format!("VALUE v{n}").as_str(), "BYE"]
        );
    }
    flood
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut answer = String::new();
    BufReader::new(flood).read_line(&mut answer).unwrap();
    assert_eq!(
        answer,
        "ERR LimitExceeded: a request is at most 65536 bytes\n"
    );
}
