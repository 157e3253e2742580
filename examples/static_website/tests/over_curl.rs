//! `mir-static_website` on the socket stack (loopback), driven by `curl`: the HTTP features,
//! each store, HTTPS with the test CA, and clients that misbehave.

mod common;

use common::{Server, curl, curl_ok, have, sha256, site_and_image, test_ca};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

const LOOPBACK: &[&str] = &["--interfaces", "127.0.0.1", "--http-port", "0"];

fn url(port: u16, path: &str) -> String {
    format!("http://127.0.0.1:{port}{path}")
}

/// `-w` fields of one request: status, size, content type.
fn fetch(args: &[&str]) -> String {
    let mut all = vec![
        "-o",
        "/dev/null",
        "-w",
        "%{http_code} %{size_download} %{content_type}",
    ];
    all.extend_from_slice(args);
    curl_ok(&[], &all)
}

fn header<'a>(headers: &'a str, name: &str) -> Option<&'a str> {
    headers.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.eq_ignore_ascii_case(name).then(|| value.trim())
    })
}

#[test]
fn http_as_a_browser_and_curl_expect_it() {
    if !have("curl") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    site_and_image(dir.path());
    let large = std::fs::read(dir.path().join("site/files/large.bin")).unwrap();
    let server = Server::start(&[], LOOPBACK, dir.path());
    let port = server.http;

    assert_eq!(
        fetch(&[&url(port, "/")]),
        "200 612 text/html; charset=utf-8"
    );
    assert_eq!(
        fetch(&[&url(port, "/css/style.css")]),
        format!(
            "200 {} text/css; charset=utf-8",
            std::fs::metadata(dir.path().join("site/css/style.css"))
                .unwrap()
                .len()
        )
    );
    assert_eq!(
        fetch(&[&url(port, "/images/logo.png")]),
        "200 1796 image/png"
    );
    assert_eq!(
        fetch(&[&url(port, "/missing.html")]),
        "404 10 text/plain; charset=utf-8"
    );
    // The server's key is in the store, and never served.
    assert_eq!(
        fetch(&[&url(port, "/tls/server.key")]).split(' ').next(),
        Some("404")
    );
    assert_eq!(fetch(&[&url(port, "/tls/")]).split(' ').next(), Some("404"));
    // A directory without its slash is sent to it; one without an index is missing.
    let moved = curl_ok(&[], &["-D", "-", "-o", "/dev/null", &url(port, "/css")]);
    assert!(moved.starts_with("HTTP/1.1 301"), "{moved}");
    assert_eq!(header(&moved, "location"), Some("/css/"));
    assert_eq!(fetch(&[&url(port, "/css/")]).split(' ').next(), Some("404"));
    // Climbing out is a bad request, not a lookup.
    assert_eq!(
        fetch(&["--path-as-is", &url(port, "/../../etc/passwd")])
            .split(' ')
            .next(),
        Some("400")
    );
    assert_eq!(
        fetch(&[&url(port, "/%2e%2e/etc/passwd")]).split(' ').next(),
        Some("400")
    );
    // Methods other than GET and HEAD.
    for method in ["POST", "PUT", "DELETE"] {
        let answer = curl_ok(
            &[],
            &["-X", method, "-D", "-", "-o", "/dev/null", &url(port, "/")],
        );
        assert!(answer.starts_with("HTTP/1.1 405"), "{method}: {answer}");
        assert_eq!(header(&answer, "allow"), Some("GET, HEAD"));
    }
    // HEAD: GET's headers, no body.
    let head = curl_ok(&[], &["-I", &url(port, "/")]);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert_eq!(header(&head, "content-length"), Some("612"));
    assert_eq!(header(&head, "accept-ranges"), Some("bytes"));
    // Dated by the wall clock (RFC 9110's IMF-fixdate), as an origin with a clock must.
    let date = header(&head, "date").expect("a Date header");
    assert!(
        date.len() == 29 && date.ends_with(" GMT") && date.as_bytes()[3] == b',',
        "{date}"
    );
    // The large file, streamed whole.
    let body = curl(&[], &[&url(port, "/files/large.bin")]);
    assert_eq!(sha256(&body.stdout), sha256(&large));
    // ETag: the same for the same contents; If-None-Match gives 304.
    let etag_of = || {
        let headers = curl_ok(
            &[],
            &["-D", "-", "-o", "/dev/null", &url(port, "/files/large.bin")],
        );
        header(&headers, "etag").unwrap().to_owned()
    };
    let etag = etag_of();
    assert!(
        etag.starts_with('"') && etag.ends_with('"') && etag.len() > 2,
        "{etag}"
    );
    assert_eq!(etag_of(), etag);
    let if_none_match = format!("If-None-Match: {etag}");
    assert_eq!(
        fetch(&["-H", &if_none_match, &url(port, "/files/large.bin")]),
        "304 0 "
    );
    assert_eq!(
        fetch(&["-H", "If-None-Match: \"other\"", &url(port, "/")])
            .split(' ')
            .next(),
        Some("200")
    );
    // Ranges: 206 with the right bytes, 416 beyond the end, ignored for another If-Range.
    let part = curl(
        &[],
        &["-r", "1000000-1000099", &url(port, "/files/large.bin")],
    );
    assert_eq!(part.stdout, &large[1_000_000..1_000_100]);
    let part = curl_ok(
        &[],
        &[
            "-r",
            "-10",
            "-D",
            "-",
            "-o",
            "/dev/null",
            &url(port, "/files/large.bin"),
        ],
    );
    assert!(part.starts_with("HTTP/1.1 206"), "{part}");
    assert_eq!(
        header(&part, "content-range"),
        Some(
            format!(
                "bytes {}-{}/{}",
                large.len() - 10,
                large.len() - 1,
                large.len()
            )
            .as_str()
        )
    );
    let beyond = curl_ok(
        &[],
        &[
            "-r",
            "99999999-",
            "-D",
            "-",
            "-o",
            "/dev/null",
            &url(port, "/files/large.bin"),
        ],
    );
    assert!(beyond.starts_with("HTTP/1.1 416"), "{beyond}");
    assert_eq!(
        header(&beyond, "content-range"),
        Some(format!("bytes */{}", large.len()).as_str())
    );
    assert_eq!(
        fetch(&["-r", "0-9", "-H", "If-Range: \"stale\"", &url(port, "/")]),
        "200 612 text/html; charset=utf-8"
    );
    let if_range = format!("If-Range: {etag}");
    assert_eq!(
        fetch(&["-r", "0-9", "-H", &if_range, &url(port, "/files/large.bin")]),
        "206 10 application/octet-stream"
    );
    // Keep-alive: curl reuses its connection for a second request.
    let twice = curl(
        &[],
        &[
            "-v",
            "-o",
            "/dev/null",
            "-o",
            "/dev/null",
            &url(port, "/"),
            &url(port, "/about.html"),
        ],
    );
    let log = String::from_utf8_lossy(&twice.stderr);
    assert!(log.contains("Re-using existing connection"), "{log}");
    // A request line that is not HTTP: 400.
    let mut raw = TcpStream::connect(("127.0.0.1", port)).unwrap();
    raw.write_all(b"NOT HTTP AT ALL\r\n\r\n").unwrap();
    let mut answer = String::new();
    raw.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let _ = raw.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer:?}");
}

#[test]
fn every_store_serves_the_same_site() {
    if !have("curl") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    site_and_image(dir.path());
    let large = sha256(&std::fs::read(dir.path().join("site/files/large.bin")).unwrap());
    let index = std::fs::read(dir.path().join("site/index.html")).unwrap();
    for store in ["crunch", "direct", "fat"] {
        let mut args = LOOPBACK.to_vec();
        args.extend(["--kv-ro", store]);
        let server = Server::start(&[], &args, dir.path());
        let port = server.http;
        assert_eq!(curl(&[], &[&url(port, "/")]).stdout, index, "{store}");
        assert_eq!(
            sha256(&curl(&[], &[&url(port, "/files/large.bin")]).stdout),
            large,
            "{store}"
        );
        let part = curl(
            &[],
            &["-r", "4194000-4194399", &url(port, "/files/large.bin")],
        );
        assert_eq!(part.stdout.len(), 400, "{store}");
        assert_eq!(
            fetch(&[&url(port, "/nothing")]).split(' ').next(),
            Some("404"),
            "{store}"
        );
    }
}

#[test]
fn https_with_the_test_ca_and_http_redirected_to_it() {
    if !have("curl") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut args = LOOPBACK.to_vec();
    args.extend(["--https", "true", "--https-port", "0"]);
    let server = Server::start(&[], &args, dir.path());
    let https = server.https.unwrap();
    let ca = test_ca();
    let ca = ca.to_str().unwrap();
    let secure = format!("https://localhost:{https}/");
    assert_eq!(
        fetch(&["--cacert", ca, &secure]),
        "200 612 text/html; charset=utf-8"
    );
    let part = curl(&[], &["--cacert", ca, "-r", "0-14", &secure]);
    assert_eq!(part.stdout, b"<!DOCTYPE html>");
    // Without the test CA, curl refuses the certificate (60: peer certificate cannot be
    // authenticated); so it does for a name the certificate does not have.
    assert_eq!(curl(&[], &[&secure]).status.code(), Some(60));
    assert_eq!(
        curl(
            &[],
            &[
                "--cacert",
                ca,
                "--resolve",
                &format!("other.example:{https}:127.0.0.1"),
                &format!("https://other.example:{https}/")
            ]
        )
        .status
        .code(),
        Some(60)
    );
    // Plain HTTP redirects to the same path over HTTPS.
    let moved = curl_ok(
        &[],
        &[
            "-D",
            "-",
            "-o",
            "/dev/null",
            &format!("http://localhost:{}/about.html?x=1", server.http),
        ],
    );
    assert!(moved.starts_with("HTTP/1.1 301"), "{moved}");
    assert_eq!(
        header(&moved, "location"),
        Some(format!("https://localhost:{https}/about.html?x=1").as_str())
    );
    assert_eq!(
        fetch(&[
            "-L",
            "--cacert",
            ca,
            &format!("http://localhost:{}/about.html", server.http)
        ])
        .split(' ')
        .next(),
        Some("200")
    );
    // A Host header that would send the client elsewhere is refused.
    assert_eq!(
        fetch(&["-H", "Host: evil.example/x", &url(server.http, "/")])
            .split(' ')
            .next(),
        Some("400")
    );
    // Garbage instead of a TLS handshake does not stop the server.
    let mut raw = TcpStream::connect(("127.0.0.1", https)).unwrap();
    raw.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
    let mut sink = Vec::new();
    raw.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let _ = raw.read_to_end(&mut sink);
    assert_eq!(
        fetch(&["--cacert", ca, &secure]).split(' ').next(),
        Some("200")
    );
}

#[test]
fn a_certificate_from_another_ca_is_refused_by_curl() {
    if !have("curl") || !have("openssl") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    site_and_image(dir.path());
    // A new CA and certificate, made by the example's own script, in a directory store.
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("make-test-cert.sh");
    let other_ca = dir.path().join("other-ca.pem");
    let made = std::process::Command::new(script)
        .arg(dir.path().join("site"))
        .arg(&other_ca)
        .output()
        .unwrap();
    assert!(made.status.success(), "{made:?}");
    let mut args = LOOPBACK.to_vec();
    args.extend(["--kv-ro", "direct", "--https", "true", "--https-port", "0"]);
    let server = Server::start(&[], &args, dir.path());
    let secure = format!("https://localhost:{}/", server.https.unwrap());
    let ours = test_ca();
    assert_eq!(
        curl(&[], &["--cacert", ours.to_str().unwrap(), &secure])
            .status
            .code(),
        Some(60)
    );
    assert_eq!(
        fetch(&["--cacert", other_ca.to_str().unwrap(), &secure]),
        "200 612 text/html; charset=utf-8"
    );
}

/// Starts the server over the `direct` store in `dir/site` with HTTPS on; it must fail at
/// once: its stderr.
fn fails_to_start(dir: &std::path::Path) -> String {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_mir-static_website"))
        .args(LOOPBACK)
        .args(["--kv-ro", "direct", "--https", "true", "--https-port", "0"])
        .current_dir(dir)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty(), "nothing was served");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn https_without_a_certificate_in_the_store_is_an_error_at_start() {
    let dir = tempfile::tempdir().unwrap();
    site_and_image(dir.path());
    std::fs::remove_dir_all(dir.path().join("site/tls")).unwrap();
    let said = fails_to_start(dir.path());
    assert!(
        said.contains("HTTPS: no tls/server.pem in the store"),
        "{said}"
    );
    // A key that does not match its certificate is refused too.
    std::fs::create_dir(dir.path().join("site/tls")).unwrap();
    let tls = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("htdocs/tls");
    std::fs::copy(
        tls.join("server.pem"),
        dir.path().join("site/tls/server.pem"),
    )
    .unwrap();
    std::fs::write(dir.path().join("site/tls/server.key"), "not a key").unwrap();
    let said = fails_to_start(dir.path());
    assert!(said.contains("tls/server.key"), "{said}");
}

/// Waits (at most `limit`) until the server closes `stream`; how long that took.
fn closed_within(stream: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    stream.set_read_timeout(Some(limit)).unwrap();
    let mut buf = [0u8; 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) if start.elapsed() < limit => return Some(start.elapsed()),
            Ok(_) if start.elapsed() < limit => continue,
            _ => return None,
        }
    }
}

#[test]
fn slow_clients_time_out_and_the_server_goes_on_serving() {
    if !have("curl") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut args = LOOPBACK.to_vec();
    args.extend(["--header-timeout", "1"]);
    let server = Server::start(&[], &args, dir.path());
    let port = server.http;
    // Half a request line, then nothing (slowloris); and a client that sends nothing.
    let mut slow = TcpStream::connect(("127.0.0.1", port)).unwrap();
    slow.write_all(b"GET / HT").unwrap();
    let mut silent = TcpStream::connect(("127.0.0.1", port)).unwrap();
    assert_eq!(fetch(&[&url(port, "/")]).split(' ').next(), Some("200"));
    let slow_closed = closed_within(&mut slow, Duration::from_secs(10));
    assert!(slow_closed.is_some(), "the slow client was never dropped");
    assert!(closed_within(&mut silent, Duration::from_secs(10)).is_some());
    // A kept-alive connection that goes quiet after a request is dropped too.
    let mut idle = TcpStream::connect(("127.0.0.1", port)).unwrap();
    idle.write_all(b"GET /about.html HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    assert!(closed_within(&mut idle, Duration::from_secs(10)).is_some());
    assert_eq!(fetch(&[&url(port, "/")]).split(' ').next(), Some("200"));
}

#[test]
fn connections_beyond_the_limit_are_closed_at_once() {
    if !have("curl") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut args = LOOPBACK.to_vec();
    args.extend(["--max-connections", "2", "--header-timeout", "3"]);
    let server = Server::start(&[], &args, dir.path());
    let port = server.http;
    let held: Vec<TcpStream> = (0..2)
        .map(|_| TcpStream::connect(("127.0.0.1", port)).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let mut third = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let closed = closed_within(&mut third, Duration::from_millis(2500));
    assert!(
        closed.is_some(),
        "the third connection was not closed at once"
    );
    // Once the two held ones time out, the server takes connections again.
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(fetch(&[&url(port, "/")]).split(' ').next(), Some("200"));
    drop(held);
}

#[test]
fn one_port_answers_curl_over_ipv6_and_ipv4_and_redirects_each_to_https() {
    if !have("curl") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "--interfaces",
        "127.0.0.1",
        "--ipv6-interfaces",
        "::1",
        "--http-port",
        "0",
        "--https",
        "true",
        "--https-port",
        "0",
    ];
    let server = Server::start(&[], &args, dir.path());
    let (http, https) = (server.http, server.https.unwrap());
    let ca = test_ca();
    let ca = ca.to_str().unwrap();
    for family in ["-4", "-6"] {
        // `localhost` is both 127.0.0.1 and ::1; the certificate names it.
        let secure = format!("https://localhost:{https}/");
        assert_eq!(
            fetch(&[family, "--cacert", ca, &secure]),
            "200 612 text/html; charset=utf-8",
            "{family}"
        );
        let moved = curl_ok(
            &[],
            &[
                family,
                "-o",
                "/dev/null",
                "-w",
                "%{http_code} %{redirect_url}",
                &format!("http://localhost:{http}/about.html"),
            ],
        );
        assert_eq!(moved, format!("301 https://localhost:{https}/about.html"));
    }
    // Addressed by its IPv6 address, bracketed, the redirect keeps the brackets.
    let moved = curl_ok(
        &[],
        &[
            "-o",
            "/dev/null",
            "-w",
            "%{http_code} %{redirect_url}",
            &format!("http://[::1]:{http}/"),
        ],
    );
    assert_eq!(moved, format!("301 https://[::1]:{https}/"));
}
