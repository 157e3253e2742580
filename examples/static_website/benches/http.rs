//! Requests per second and transfer rates of the static website under `wrk`, each figure
//! beside its baseline in the same run: our server on the socket stack against the same
//! hyper handler (`Responder`) on plain tokio sockets, against nginx serving the same files,
//! and our server on the direct stack over a tap device (in a namespace, as root); HTTP and
//! HTTPS, the 612-byte page and the 6 MiB file. Rounds are interleaved; medians reported.
//!
//! A second table asks the 612-byte page over one kept-alive connection from each of our
//! stores (the compiled-in site, a host directory, a FAT image) beside nginx: what one
//! client waiting for each answer before the next sees.
//!
//! `cargo bench -p mir-static_website` (needs `wrk`; nginx and root for those rows).
//! `BENCH_SECONDS` (default 3) and `BENCH_ROUNDS` (default 3) tune it.

use bytes::{Bytes, BytesMut};
use http_body_util::StreamBody;
use hyper::body::Frame;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use mir_static_website::body::BodyError;
use mir_static_website::http::{Parsed, Request};
use mir_static_website::keys::KvRoKind;
use mir_static_website::respond::Responder;
use mir_static_website::site::{Site, write_site};
use mir_static_website::store::open;
use mir_static_website::tls::{Tls, server_config};
use mir_static_website::unikernel::{Config, Main};
use mirage_kv::Crunch;
use mirage_net::{SocketStack, StackConfig};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::rc::Rc;
use std::time::Duration;

/// Connections wrk keeps open (as in the published comparison the README cites).
const CONNECTIONS: &str = "30";

/// Our server (the example's `Main` on the socket stack), on a thread of its own; its HTTP
/// and HTTPS ports.
fn ours() -> (u16, u16) {
    let (sender, ports) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        mirage_unix::run(async move {
            let stack =
                SocketStack::with_config(StackConfig::new().interfaces(vec![Ipv4Addr::LOCALHOST]));
            // HTTPS on; HTTP would redirect, so a second server without it serves HTTP.
            let secure = Main::new(
                mirage_console::MemConsole::new(),
                stack.clone(),
                mirage_unix::UnixTime,
                Crunch::<Site>::new(),
                Config::default()
                    .http_port(0)
                    .https_port(Some(0))
                    .clock(mirage_unix::UnixClock),
            );
            let plain = Main::new(
                mirage_console::MemConsole::new(),
                stack,
                mirage_unix::UnixTime,
                Crunch::<Site>::new(),
                Config::default().http_port(0).clock(mirage_unix::UnixClock),
            );
            let secure_ports = secure.bind().await.unwrap();
            let plain_ports = plain.bind().await.unwrap();
            sender
                .send((
                    plain_ports.http_addr().port(),
                    secure_ports.https_addr().unwrap().port(),
                ))
                .unwrap();
            let _ = futures::join!(secure.serve(secure_ports), plain.serve(plain_ports));
        })
    });
    ports.recv().unwrap()
}

/// Our server on the socket stack over the store `kind` names (`htdocs`, `image` for the
/// direct and FAT ones), on a thread of its own; its HTTP port.
fn ours_over(kind: KvRoKind, htdocs: PathBuf, image: PathBuf) -> u16 {
    let (sender, port) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        mirage_unix::run(async move {
            let stack =
                SocketStack::with_config(StackConfig::new().interfaces(vec![Ipv4Addr::LOCALHOST]));
            let store = open(kind, &htdocs, &image).await.unwrap();
            let main = Main::new(
                mirage_console::MemConsole::new(),
                stack,
                mirage_unix::UnixTime,
                store,
                Config::default().http_port(0).clock(mirage_unix::UnixClock),
            );
            let ports = main.bind().await.unwrap();
            sender.send(ports.http_addr().port()).unwrap();
            let _ = main.serve(ports).await;
        })
    });
    port.recv().unwrap()
}

/// A response body as hyper takes it: our body's chunks as data frames.
type HyperBody =
    StreamBody<futures::stream::LocalBoxStream<'static, Result<Frame<Bytes>, BodyError>>>;

/// The baseline's handler: hyper's request handed to the same `Responder` our server uses
/// (its head written out and parsed as our server parses a head), the answer handed back
/// to hyper. Only the HTTP engine and the sockets underneath differ.
async fn through_responder(
    responder: &Responder<Crunch<Site>>,
    request: hyper::Request<hyper::body::Incoming>,
) -> hyper::Response<HyperBody> {
    use futures::StreamExt;
    let mut head = BytesMut::with_capacity(512);
    head.extend_from_slice(request.method().as_str().as_bytes());
    head.extend_from_slice(b" ");
    head.extend_from_slice(request.uri().to_string().as_bytes());
    head.extend_from_slice(b" HTTP/1.1\r\n");
    for (name, value) in request.headers() {
        head.extend_from_slice(name.as_str().as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(value.as_bytes());
        head.extend_from_slice(b"\r\n");
    }
    head.extend_from_slice(b"\r\n");
    let Parsed::Request(ours) = Request::parse(&mut head) else {
        panic!("hyper passed a head our parser refuses");
    };
    let answer = responder.respond(&ours).await;
    let mut response = hyper::Response::builder().status(answer.status().code());
    for (name, value) in answer.headers() {
        response = response.header(name, value);
    }
    if let Some(len) = answer.content_length() {
        response = response.header("content-length", len);
    }
    let chunks = futures::stream::unfold(answer.into_body(), |mut body| async move {
        let chunk = body.next_chunk().await?;
        Some((chunk.map(Frame::data), body))
    });
    response
        .body(StreamBody::new(chunks.boxed_local()))
        .unwrap()
}

/// The baseline: the same `Responder` over the same store, served by hyper configured as the
/// server configured it when it ran on hyper, on tokio's own sockets (and tokio-rustls), one
/// task per connection, on a thread of its own.
fn plain_tokio() -> (u16, u16) {
    let (sender, ports) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let local = tokio::task::LocalSet::new();
        local.block_on(&runtime, async move {
            let store = Crunch::<Site>::new();
            let acceptor =
                tokio_rustls::TlsAcceptor::from(server_config(&store, &Tls::ring()).await.unwrap());
            let responder = Rc::new(Responder::new(Rc::new(store)));
            let http = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let https = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            sender
                .send((
                    http.local_addr().unwrap().port(),
                    https.local_addr().unwrap().port(),
                ))
                .unwrap();
            loop {
                let (stream, secure) = tokio::select! {
                    Ok((stream, _)) = http.accept() => (stream, false),
                    Ok((stream, _)) = https.accept() => (stream, true),
                };
                let _ = stream.set_nodelay(true);
                let responder = responder.clone();
                let acceptor = acceptor.clone();
                tokio::task::spawn_local(async move {
                    let service = hyper::service::service_fn(|request| {
                        let responder = responder.clone();
                        async move {
                            Ok::<_, std::convert::Infallible>(
                                through_responder(&responder, request).await,
                            )
                        }
                    });
                    // hyper set up as the server sets it up (a header-read timer per
                    // request, the same buffer bound): only the stack underneath differs.
                    let mut builder = http1::Builder::new();
                    builder
                        .timer(hyper_util::rt::TokioTimer::new())
                        .header_read_timeout(Config::default().header_timeout)
                        .max_buf_size(64 * 1024);
                    if secure {
                        if let Ok(stream) = acceptor.accept(stream).await {
                            let _ = builder
                                .serve_connection(TokioIo::new(stream), service)
                                .await;
                        }
                    } else {
                        let _ = builder
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    }
                });
            }
        });
    });
    ports.recv().unwrap()
}

/// nginx (one worker, as our server has one thread) serving `site`, or why not.
struct Nginx(Child);

impl Nginx {
    fn start(dir: &Path, http: u16, https: u16) -> Result<Nginx, String> {
        if !Path::new("/usr/sbin/nginx").exists() {
            return Err("nginx is not installed (nginx-light)".into());
        }
        let site = dir.join("site");
        let conf = format!(
            "worker_processes 1; daemon off; master_process off; pid {dir}/nginx.pid; error_log stderr error;\n\
             events {{ worker_connections 1024; }}\n\
             http {{ access_log off; sendfile on; tcp_nopush on; keepalive_requests 1000000;\n\
               client_body_temp_path {dir}; proxy_temp_path {dir}; fastcgi_temp_path {dir};\n\
               uwsgi_temp_path {dir}; scgi_temp_path {dir};\n\
               types {{ text/html html; text/css css; image/png png; application/octet-stream bin; }}\n\
               server {{ listen 127.0.0.1:{http}; listen 127.0.0.1:{https} ssl; root {site};\n\
                 ssl_certificate {site}/tls/server.pem; ssl_certificate_key {site}/tls/server.key; }} }}\n",
            dir = dir.display(),
            site = site.display()
        );
        std::fs::write(dir.join("nginx.conf"), conf).unwrap();
        let child = Command::new("/usr/sbin/nginx")
            .arg("-c")
            .arg(dir.join("nginx.conf"))
            .arg("-p")
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| e.to_string())?;
        std::thread::sleep(Duration::from_millis(500));
        Ok(Nginx(child))
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A namespace with our server on the direct stack over its `tap0`, or why not.
struct DirectServer {
    namespace: String,
    server: Child,
}

impl DirectServer {
    /// `tag` names the namespace; `https` turns HTTPS on (plain HTTP then only redirects,
    /// so the HTTP rows use a server without it).
    fn start(tag: &str, https: bool) -> Result<DirectServer, String> {
        // SAFETY: a plain getter.
        if unsafe { libc::geteuid() } != 0 {
            return Err("not root (the direct stack needs a tap device in a namespace)".into());
        }
        let namespace = format!("mirage-web{tag}-{}", std::process::id());
        let ip = |args: &str| {
            Command::new("sh")
                .arg("-c")
                .arg(format!("ip {args}"))
                .status()
                .map_err(|e| e.to_string())
                .and_then(|s| s.success().then_some(()).ok_or(format!("ip {args} failed")))
        };
        ip(&format!("netns add {namespace}"))?;
        for setup in [
            "link set lo up",
            "tuntap add tap0 mode tap",
            // The largest MTU a tap takes (65535 less the Ethernet header), as loopback's
            // 64 KiB for the socket stack: the direct stack takes the tap's MTU.
            "link set tap0 mtu 65521",
            "addr add 10.0.0.1/24 dev tap0",
            "link set tap0 up",
        ] {
            ip(&format!("netns exec {namespace} ip {setup}"))?;
        }
        let server = Command::new("ip")
            .args(["netns", "exec", &namespace])
            .arg(env!("CARGO_BIN_EXE_mir-static_website"))
            .args([
                "--net",
                "direct",
                "--https",
                if https { "true" } else { "false" },
            ])
            .stdout(Stdio::null())
            .spawn()
            .map_err(|e| e.to_string())?;
        std::thread::sleep(Duration::from_secs(1));
        Ok(DirectServer { namespace, server })
    }
}

impl Drop for DirectServer {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
        let _ = Command::new("ip")
            .args(["netns", "del", &self.namespace])
            .status();
    }
}

/// One wrk run: requests per second and bytes per second.
fn wrk(prefix: &[&str], url: &str, seconds: u64) -> (f64, f64) {
    wrk_with(prefix, url, seconds, CONNECTIONS)
}

/// `wrk` on one thread with `connections` open; requests and bytes per second.
fn wrk_with(prefix: &[&str], url: &str, seconds: u64, connections: &str) -> (f64, f64) {
    let mut command = Command::new(prefix.first().copied().unwrap_or("wrk"));
    if !prefix.is_empty() {
        command.args(&prefix[1..]).arg("wrk");
    }
    let output = command
        .args(["-t1", "-c", connections, "-d", &format!("{seconds}s"), url])
        .output()
        .expect("wrk runs");
    let text = String::from_utf8_lossy(&output.stdout);
    let field = |name: &str| -> Option<&str> {
        text.lines()
            .find_map(|line| line.trim().strip_prefix(name))
            .map(str::trim)
    };
    let requests: f64 = field("Requests/sec:")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("wrk {url}: {text}"));
    let transfer = field("Transfer/sec:").unwrap_or("0B");
    let (number, unit) = transfer.split_at(
        transfer
            .find(|c: char| c.is_ascii_alphabetic())
            .unwrap_or(transfer.len()),
    );
    let scale = match unit {
        "KB" => 1024.0,
        "MB" => 1024.0 * 1024.0,
        "GB" => 1024.0 * 1024.0 * 1024.0,
        _ => 1.0,
    };
    assert!(
        !text.contains("Non-2xx") && output.status.success(),
        "wrk {url} got error responses: {text}"
    );
    (requests, number.parse::<f64>().unwrap_or(0.0) * scale)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let found = Command::new("sh").args(["-c", "command -v wrk"]).output();
    if !found.is_ok_and(|o| o.status.success()) {
        eprintln!("http bench skipped: wrk is not installed (apt-get install wrk)");
        return;
    }
    let seconds: u64 = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let rounds: usize = std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let dir = tempfile::tempdir().unwrap();
    write_site(&dir.path().join("site")).unwrap();

    let (ours_http, ours_https) = ours();
    let (tokio_http, tokio_https) = plain_tokio();
    let free = || {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    };
    let (nginx_http, nginx_https) = (free(), free());
    let nginx = Nginx::start(dir.path(), nginx_http, nginx_https);
    if let Err(why) = &nginx {
        eprintln!("nginx rows skipped: {why}");
    }
    let direct = [
        DirectServer::start("http", false),
        DirectServer::start("https", true),
    ];
    if let Err(why) = &direct[0] {
        eprintln!("direct-stack rows skipped: {why}");
    }

    kept_alive(dir.path(), nginx_http, nginx.is_ok(), seconds, rounds);

    println!(
        "{:<28} {:>12} {:>12} {:>12} {:>12} {:>9} {:>9} {:>9}",
        "case (wrk -c30, medians)",
        "ours req/s",
        "tokio req/s",
        "nginx req/s",
        "direct req/s",
        "ours/tok",
        "ours/ngx",
        "dir/ours"
    );
    for (scheme, ports, direct) in [
        (
            "http",
            [ours_http, tokio_http, nginx_http, 8080],
            &direct[0],
        ),
        (
            "https",
            [ours_https, tokio_https, nginx_https, 4433],
            &direct[1],
        ),
    ] {
        let inside: Vec<&str> = match direct {
            Ok(server) => ["ip", "netns", "exec", server.namespace.as_str()].to_vec(),
            Err(_) => Vec::new(),
        };
        // The four servers: where wrk runs, the host it asks, and whether it is there.
        let servers: [(&[&str], &str, bool); 4] = [
            (&[], "127.0.0.1", true),
            (&[], "127.0.0.1", true),
            (&[], "127.0.0.1", nginx.is_ok()),
            (&inside, "10.0.0.2", direct.is_ok()),
        ];
        for path in ["/index.html", "/files/large.bin"] {
            let mut requests = vec![Vec::new(); 4];
            let mut bytes = vec![Vec::new(); 4];
            for _ in 0..rounds {
                for (i, (prefix, host, present)) in servers.iter().enumerate() {
                    if *present {
                        let url = format!("{scheme}://{host}:{}{path}", ports[i]);
                        let (r, t) = wrk(prefix, &url, seconds);
                        requests[i].push(r);
                        bytes[i].push(t);
                    }
                }
            }
            let m = |v: &Vec<f64>| {
                if v.is_empty() {
                    f64::NAN
                } else {
                    median(v.clone())
                }
            };
            let [a, b, c, d] = [0, 1, 2, 3].map(|i| m(&requests[i]));
            println!(
                "{:<28} {a:>12.0} {b:>12.0} {c:>12.0} {d:>12.0} {:>9.2} {:>9.2} {:>9.2}",
                format!("{scheme} {path}"),
                a / b,
                a / c,
                d / a
            );
            let [a, b, c, d] = [0, 1, 2, 3].map(|i| m(&bytes[i]) / (1024.0 * 1024.0));
            println!(
                "{:<28} {a:>10.1}MB {b:>10.1}MB {c:>10.1}MB {d:>10.1}MB   (transfer per second)",
                ""
            );
        }
    }
}

/// The 612-byte page over one kept-alive connection (`wrk -c1`) from each store, beside
/// nginx serving the same file: requests per second, medians of `rounds`.
fn kept_alive(dir: &Path, nginx_http: u16, nginx: bool, seconds: u64, rounds: usize) {
    let image = dir.join("site.img");
    mirage_unix::run(mirage_fat_image::build(&dir.join("site"), &image)).unwrap();
    let htdocs = dir.join("site");
    let stores = [
        (
            "crunch",
            ours_over(KvRoKind::Crunch, htdocs.clone(), image.clone()),
        ),
        (
            "direct",
            ours_over(KvRoKind::Direct, htdocs.clone(), image.clone()),
        ),
        ("fat", ours_over(KvRoKind::Fat, htdocs, image)),
    ];
    let mut nginx_rates = Vec::new();
    let mut rates = vec![Vec::new(); stores.len()];
    for _ in 0..rounds {
        for (i, (_, port)) in stores.iter().enumerate() {
            let url = format!("http://127.0.0.1:{port}/index.html");
            rates[i].push(wrk_with(&[], &url, seconds, "1").0);
        }
        if nginx {
            let url = format!("http://127.0.0.1:{nginx_http}/index.html");
            nginx_rates.push(wrk_with(&[], &url, seconds, "1").0);
        }
    }
    let baseline = if nginx_rates.is_empty() {
        f64::NAN
    } else {
        median(nginx_rates)
    };
    println!(
        "{:<40} {:>12} {:>12} {:>9}",
        "one kept-alive connection (wrk -c1)", "ours req/s", "nginx req/s", "ours/ngx"
    );
    for ((store, _), rates) in stores.iter().zip(rates) {
        let ours = median(rates);
        println!(
            "{:<40} {ours:>12.0} {baseline:>12.0} {:>9.2}",
            format!("http /index.html, {store} store"),
            ours / baseline
        );
    }
}
