//! The site under attack (issue 25's list), on the socket stack and, with root, on the
//! direct stack in a namespace: private files by other spellings, memory a client can make
//! the server hold, downloads that change underneath, stalled and half-closed clients, and
//! kept-alive requests that must not wait for a delayed ACK.

mod common;

use common::{
    Answer, Target, get, have, memory_kib, raise_file_limit, read_answer, site_and_image,
};
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddrV4, TcpStream};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const STACKS: [&str; 2] = ["socket", "direct"];

/// The site written out (`dir/site`) and imaged (`dir/site.img`), with `extra` files added
/// to the directory first.
fn site_with(dir: &Path, extra: impl FnOnce(&Path)) {
    let binary = env!("CARGO_BIN_EXE_mir-static_website");
    let status = Command::new(binary)
        .args(["--write-site", "site"])
        .current_dir(dir)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    extra(&dir.join("site"));
    mirage_unix::run(mirage_fat_image::build(
        &dir.join("site"),
        &dir.join("site.img"),
    ))
    .unwrap();
}

#[test]
fn the_private_key_is_never_served_by_any_spelling_store_or_stack() {
    let dir = tempfile::tempdir().unwrap();
    site_with(dir.path(), |site| {
        std::fs::create_dir(site.join("certificates")).unwrap();
        std::fs::write(site.join("certificates/private-key.pem"), "secret").unwrap();
    });
    let spellings = [
        "/tls/server.key",
        "/TLS/server.key",
        "/Tls/server.key",
        "/tls/SERVER.KEY",
        "/TLS/SERVER.KEY",
        "/%54%4cS/server.key",
        "/tls/server.pem",
        "/TLS/",
        "/TLS",
    ];
    for stack in STACKS {
        for store in ["crunch", "direct", "fat"] {
            let Some(site) = Target::start(stack, &["--kv-ro", store], dir.path()) else {
                continue;
            };
            site.client(|addr| {
                for path in spellings {
                    let answer = get(addr, path, &[]);
                    assert_eq!(answer.status, 404, "{stack} {store} {path}: {answer:?}");
                }
                if store != "crunch" {
                    // A long name's 8.3 alias and other cases reach nothing on FAT either.
                    for path in [
                        "/CERTIF~1/private-key.pem",
                        "/certificates/PRIVAT~1.PEM",
                        "/Certificates/private-key.pem",
                    ] {
                        assert_eq!(get(addr, path, &[]).status, 404, "{stack} {store} {path}");
                    }
                    let exact = get(addr, "/certificates/private-key.pem", &[]);
                    assert_eq!(exact.status, 200, "{stack} {store}");
                }
            });
        }
    }
}

#[test]
fn the_private_key_is_not_served_over_https_either() {
    if !have("curl") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    site_and_image(dir.path());
    let args = ["--kv-ro", "fat", "--https", "true", "--https-port", "0"];
    let site = Target::start("socket", &args, dir.path()).unwrap();
    let https = site.server.https.unwrap();
    let ca = common::test_ca();
    for path in ["/tls/server.key", "/TLS/server.key", "/TLS/SERVER.KEY"] {
        let url = format!("https://localhost:{https}{path}");
        let code = common::curl_ok(
            &[],
            &[
                "--cacert",
                ca.to_str().unwrap(),
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                &url,
            ],
        );
        assert_eq!(code, "404", "{path}");
    }
}

/// Every spelling FAT takes for `name`, up to `count` of them.
fn case_variants(name: &str, count: usize) -> Vec<String> {
    let letters = name.chars().filter(|c| c.is_ascii_alphabetic()).count();
    (0..count.min(1 << letters))
        .map(|mask| {
            let mut bit = 0;
            name.chars()
                .map(|c| {
                    if !c.is_ascii_alphabetic() {
                        return c;
                    }
                    bit += 1;
                    if mask >> (bit - 1) & 1 == 1 {
                        c.to_ascii_uppercase()
                    } else {
                        c
                    }
                })
                .collect()
        })
        .collect()
}

#[test]
fn case_variants_do_not_grow_the_fat_store_s_memory() {
    let dir = tempfile::tempdir().unwrap();
    site_with(dir.path(), |site| {
        let many = site.join("documentation");
        std::fs::create_dir(&many).unwrap();
        for n in 0..400 {
            std::fs::write(many.join(format!("chapter-{n:03}.html")), "<p>page</p>").unwrap();
        }
    });
    let site = Target::start("socket", &["--kv-ro", "fat"], dir.path()).unwrap();
    let pid = site.server.pid();
    site.client(|addr| {
        assert_eq!(
            get(addr, "/documentation/chapter-007.html", &[]).status,
            200
        );
        let (before, _) = memory_kib(pid);
        let mut stream = TcpStream::connect(addr).unwrap();
        for variant in case_variants("documentation", 4096).iter().skip(1) {
            let request = format!("GET /{variant}/chapter-007.html HTTP/1.1\r\nHost: x\r\n\r\n");
            stream.write_all(request.as_bytes()).unwrap();
            assert_eq!(read_answer(&mut stream, false).status, 404, "{variant}");
        }
        let (after, _) = memory_kib(pid);
        assert!(
            after < before + 16 * 1024,
            "4095 spellings grew the server from {before} KiB to {after} KiB"
        );
    });
}

#[test]
fn an_etag_of_a_large_fat_value_is_computed_in_bounded_memory_and_once() {
    let dir = tempfile::tempdir().unwrap();
    let size: u64 = 256 << 20;
    site_with(dir.path(), |site| {
        let file = std::fs::File::create(site.join("files/huge.bin")).unwrap();
        file.set_len(size).unwrap();
    });
    let site = Target::start("socket", &["--kv-ro", "fat"], dir.path()).unwrap();
    let (_, baseline) = site.server.memory_kib();
    site.client(|addr| {
        // Three first requests at once, HEAD and GET, while a small page is asked for.
        std::thread::scope(|scope| {
            let heads: Vec<_> = (0..3)
                .map(|_| {
                    scope.spawn(move || {
                        let mut stream = TcpStream::connect(addr).unwrap();
                        stream
                            .write_all(b"HEAD /files/huge.bin HTTP/1.1\r\nHost: x\r\n\r\n")
                            .unwrap();
                        read_answer(&mut stream, true)
                    })
                })
                .collect();
            let page = get(addr, "/", &[]);
            assert_eq!(page.status, 200);
            let tags: Vec<String> = heads
                .into_iter()
                .map(|h| {
                    let answer: Answer = h.join().unwrap();
                    assert_eq!(answer.status, 200);
                    assert_eq!(
                        answer.header("content-length"),
                        Some(size.to_string().as_str())
                    );
                    answer.header("etag").unwrap().to_owned()
                })
                .collect();
            assert!(tags.iter().all(|t| t == &tags[0]), "{tags:?}");
        });
    });
    let (_, peak) = site.server.memory_kib();
    assert!(
        peak < baseline + 64 * 1024,
        "hashing 256 MiB took the server from {baseline} KiB to a peak of {peak} KiB"
    );
}

#[test]
fn a_download_comes_from_one_version_of_the_file_or_ends_short() {
    let dir = tempfile::tempdir().unwrap();
    site_and_image(dir.path());
    let size = 48 << 20;
    let site_dir = dir.path().join("site");
    for stack in STACKS {
        std::fs::write(site_dir.join("files/moving.bin"), vec![b'a'; size]).unwrap();
        let Some(site) = Target::start(stack, &["--kv-ro", "direct"], dir.path()) else {
            continue;
        };
        let received = site.client(|addr| {
            let mut stream = TcpStream::connect(addr).unwrap();
            stream
                .set_read_timeout(Some(Duration::from_secs(30)))
                .unwrap();
            stream
                .write_all(b"GET /files/moving.bin HTTP/1.1\r\nHost: x\r\n\r\n")
                .unwrap();
            let head = read_answer(&mut stream, true);
            assert_eq!(head.status, 200);
            let mut body = vec![0u8; 256 * 1024];
            stream.read_exact(&mut body).unwrap();
            // Replaced by another file of the same size, as a deploy does.
            let fresh = site_dir.join("files/.moving.new");
            std::fs::write(&fresh, vec![b'b'; size]).unwrap();
            std::fs::rename(&fresh, site_dir.join("files/moving.bin")).unwrap();
            let _ = stream.read_to_end(&mut body);
            body
        });
        assert!(
            received.iter().all(|&b| b == b'a'),
            "{stack}: bytes of the new file in the old one's download"
        );
        assert!(received.len() < size, "{stack}: the whole length arrived");
    }
}

#[test]
fn an_edit_of_the_same_size_changes_the_etag() {
    let dir = tempfile::tempdir().unwrap();
    site_and_image(dir.path());
    let page = dir.path().join("site/about.html");
    let site = Target::start("socket", &["--kv-ro", "direct"], dir.path()).unwrap();
    site.client(|addr| {
        let first = get(addr, "/about.html", &[]);
        let etag = first.header("etag").unwrap().to_owned();
        std::thread::sleep(Duration::from_millis(50));
        let mut edited = first.body.clone();
        edited[0] ^= 1;
        std::fs::write(&page, &edited).unwrap();
        let again = get(addr, "/about.html", &[&format!("If-None-Match: {etag}")]);
        assert_eq!(again.status, 200, "{again:?}");
        assert_eq!(again.body, edited);
        assert_ne!(again.header("etag"), Some(etag.as_str()));
    });
}

#[test]
fn kept_alive_requests_are_answered_without_waiting_for_an_ack() {
    let dir = tempfile::tempdir().unwrap();
    site_with(dir.path(), |site| {
        std::fs::write(site.join("files/medium.bin"), vec![b'm'; 100_000]).unwrap();
    });
    for stack in STACKS {
        for store in ["crunch", "direct", "fat"] {
            let Some(site) = Target::start(stack, &["--kv-ro", store], dir.path()) else {
                continue;
            };
            // A small page (one write), and a value of two chunks (several writes; not
            // in the compiled-in site).
            let paths: &[(&str, usize)] = match store {
                "crunch" => &[("/", 612)],
                _ => &[("/", 612), ("/files/medium.bin", 100_000)],
            };
            for &(path, size) in paths {
                let took = site.client(|addr| {
                    let mut stream = TcpStream::connect(addr).unwrap();
                    let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n");
                    let began = Instant::now();
                    for _ in 0..50 {
                        stream.write_all(request.as_bytes()).unwrap();
                        assert_eq!(read_answer(&mut stream, false).body.len(), size);
                    }
                    began.elapsed()
                });
                // A delayed ACK costs 20-40 ms a request: fifty of them a second or two.
                assert!(
                    took < Duration::from_millis(250),
                    "{stack} {store} {path}: 50 requests took {took:?}"
                );
            }
        }
    }
}

#[test]
fn a_request_followed_by_a_half_close_is_answered() {
    let dir = tempfile::tempdir().unwrap();
    for stack in STACKS {
        let Some(site) = Target::start(stack, &[], dir.path()) else {
            continue;
        };
        site.client(|addr| {
            let mut stream = TcpStream::connect(addr).unwrap();
            stream
                .set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            stream
                .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                .unwrap();
            stream.shutdown(Shutdown::Write).unwrap();
            let answer = read_answer(&mut stream, false);
            assert_eq!((answer.status, answer.body.len()), (200, 612), "{stack}");
        });
    }
}

/// Whether a fresh connection to `addr` is served (not closed at once for want of a slot).
fn served(addr: SocketAddrV4) -> bool {
    let Ok(mut stream) = TcpStream::connect(addr) else {
        return false;
    };
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let _ = stream.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let mut first = [0u8; 12];
    stream.read_exact(&mut first).is_ok() && first.starts_with(b"HTTP/1.1 200")
}

#[test]
fn a_client_that_stops_reading_is_dropped_after_the_tcp_timeout() {
    let dir = tempfile::tempdir().unwrap();
    site_and_image(dir.path());
    std::fs::write(dir.path().join("site/files/long.bin"), vec![b'z'; 96 << 20]).unwrap();
    let args = [
        "--kv-ro",
        "direct",
        "--max-connections",
        "1",
        "--tcp-timeout",
        "3",
    ];
    for stack in STACKS {
        let Some(site) = Target::start(stack, &args, dir.path()) else {
            continue;
        };
        site.client(|addr| {
            let mut stalled = TcpStream::connect(addr).unwrap();
            stalled
                .write_all(b"GET /files/long.bin HTTP/1.1\r\nHost: x\r\n\r\n")
                .unwrap();
            // It reads the head, then nothing: the window shuts.
            let mut some = [0u8; 1024];
            stalled.read_exact(&mut some).unwrap();
            std::thread::sleep(Duration::from_millis(500));
            assert!(
                !served(addr),
                "{stack}: a second connection while the first holds the slot"
            );
            let began = Instant::now();
            while !served(addr) {
                assert!(
                    began.elapsed() < Duration::from_secs(60),
                    "{stack}: the stalled client still holds its slot after a minute"
                );
                std::thread::sleep(Duration::from_millis(500));
            }
            drop(stalled);
        });
    }
}

#[test]
fn idle_connections_cost_little_memory_and_it_returns_after() {
    // 3,000 connections, or as many as the descriptor limit leaves room for (each takes one
    // descriptor here and one in the server).
    let count = 3000.min((raise_file_limit().saturating_sub(500) / 2) as usize);
    let dir = tempfile::tempdir().unwrap();
    let args = ["--max-connections", "4000", "--header-timeout", "120"];
    let mut grown = Vec::new();
    for stack in STACKS {
        let Some(site) = Target::start(stack, &args, dir.path()) else {
            continue;
        };
        let (baseline, _) = site.server.memory_kib();
        let pid = site.server.pid();
        let (held, after) = site.client(|addr| {
            let streams: Vec<TcpStream> = (0..count)
                .map(|n| {
                    TcpStream::connect(addr)
                        .unwrap_or_else(|e| panic!("{stack}: connection {n}: {e}"))
                })
                .collect();
            // Every connection served (a request answered on the last).
            let mut last = streams.last().unwrap();
            last.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                .unwrap();
            assert_eq!(read_answer(&mut last, false).status, 200);
            std::thread::sleep(Duration::from_millis(500));
            let (held, _) = memory_kib(pid);
            drop(streams);
            std::thread::sleep(Duration::from_secs(8));
            let (after, _) = memory_kib(pid);
            (held, after)
        });
        eprintln!(
            "{stack}: {baseline} KiB idle, {held} KiB with {count} connections, {after} KiB after"
        );
        grown.push((stack, held.saturating_sub(baseline)));
        // The direct stack's buffers go back to the system as their sockets are freed, and
        // the server hands back what the allocator kept once the last connection closed.
        assert!(
            after < baseline + 16 * 1024,
            "{stack}: {after} KiB after the connections closed ({baseline} KiB before)"
        );
    }
    if let [(_, socket), (_, direct)] = grown[..] {
        assert!(
            direct <= 2 * socket + 8 * 1024,
            "{count} idle connections: direct stack {direct} KiB, socket stack {socket} KiB"
        );
    }
}

#[test]
fn a_redirect_needs_a_host_when_the_site_serves_every_address() {
    let dir = tempfile::tempdir().unwrap();
    for (interfaces, expected) in [("0.0.0.0", "400"), ("127.0.0.1", "301")] {
        let args = [
            "--interfaces",
            interfaces,
            "--http-port",
            "0",
            "--https",
            "true",
            "--https-port",
            "0",
        ];
        let server = common::Server::start(&[], &args, dir.path());
        let mut stream = TcpStream::connect(("127.0.0.1", server.http)).unwrap();
        stream
            .write_all(b"GET /about.html HTTP/1.0\r\n\r\n")
            .unwrap();
        let answer = read_answer(&mut stream, true);
        assert_eq!(
            answer.status.to_string(),
            expected,
            "{interfaces}: {answer:?}"
        );
        if expected == "301" {
            let https = server.https.unwrap();
            assert_eq!(
                answer.header("location"),
                Some(format!("https://127.0.0.1:{https}/about.html").as_str())
            );
        }
    }
}

#[test]
fn timeouts_beyond_the_clock_s_range_are_refused_at_the_command_line() {
    let binary = env!("CARGO_BIN_EXE_mir-static_website");
    for (key, value) in [
        ("--header-timeout", "18446744073709551615"),
        ("--header-timeout", "0"),
        ("--tcp-timeout", "18446744073709551615"),
    ] {
        let output = Command::new(binary).args([key, value]).output().unwrap();
        let said = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{key} {value}: {said}");
        assert!(!said.contains("panicked"), "{said}");
        assert!(said.contains(key), "{said}");
    }
}
