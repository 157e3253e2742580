//! The unikernel's HTTPS, run on Unix: the same `Main` over the socket stack with
//! `tls::provider` (RustCrypto, no `std`; randomness from a Mirage `Random`, time from a
//! Mirage `Clock`) in place of `ring`, checked by `curl` with the test CA: the page, the
//! large file byte-exact, a range, both cipher suites and both key exchange groups, TLS 1.2
//! refused (the provider is TLS 1.3 only), and a certificate from another CA refused.

mod common;

use common::{curl, curl_ok, have, sha256, test_ca};
use mir_static_website::site_table::SITE;
use mir_static_website::tls::{Tls, provider};
use mir_static_website::unikernel::{Config, Main};
use mirage_kv::StaticKv;
use mirage_net::{SocketStack, StackConfig};
use mirage_types::Random;
use std::net::Ipv4Addr;

/// The host's random numbers as a Mirage `Random` (the unikernel's is `RDRAND`).
struct HostRandom;

impl Random for HostRandom {
    fn self_init(&self) {}

    fn fill_bytes(&self, buf: &mut [u8]) {
        rand::RngCore::fill_bytes(&mut rand::rng(), buf);
    }
}

/// The server on a thread of its own, HTTPS on the RustCrypto provider; its HTTPS port.
fn server() -> u16 {
    let (sender, port) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        mirage_unix::run(async move {
            let stack =
                SocketStack::with_config(StackConfig::new().interfaces(vec![Ipv4Addr::LOCALHOST]));
            let tls = Tls::new(
                provider::provider(HostRandom),
                provider::time(mirage_unix::UnixClock),
            );
            let main = Main::new(
                mirage_console::MemConsole::new(),
                stack,
                mirage_unix::UnixTime,
                StaticKv::new(SITE),
                Config::default().http_port(0).https_port(Some(0)).tls(tls),
            );
            let listeners = main.bind().await.unwrap();
            sender.send(listeners.https_addr().unwrap().port()).unwrap();
            let _ = main.serve(listeners).await;
        })
    });
    port.recv().unwrap()
}

fn value(key: &str) -> &'static [u8] {
    SITE.iter()
        .find(|(name, _)| *name == key)
        .map(|(_, bytes)| *bytes)
        .unwrap()
}

#[test]
fn curl_gets_the_site_over_the_unikernel_s_tls() {
    if !have("curl") {
        return;
    }
    let port = server();
    let ca = test_ca();
    let ca = ca.to_str().unwrap();
    let url = |path: &str| format!("https://localhost:{port}{path}");
    let page = curl_ok(&[], &["--cacert", ca, &url("/")]);
    assert_eq!(page.len(), 612);
    assert!(page.contains("It works!"));
    let large = curl(&[], &["--cacert", ca, &url("/files/large.bin")]);
    assert!(large.status.success(), "{large:?}");
    assert_eq!(sha256(&large.stdout), sha256(value("files/large.bin")));
    let part = curl(
        &[],
        &["--cacert", ca, "-r", "1000-1999", &url("/files/large.bin")],
    );
    assert_eq!(part.stdout, &value("files/large.bin")[1000..2000]);
    // Each suite and each group the provider has, as curl (OpenSSL) names them.
    for (option, choice) in [
        ("--tls13-ciphers", "TLS_AES_128_GCM_SHA256"),
        ("--tls13-ciphers", "TLS_CHACHA20_POLY1305_SHA256"),
        ("--curves", "X25519"),
        ("--curves", "P-256"),
    ] {
        let answer = curl_ok(
            &[],
            &[
                "--cacert",
                ca,
                option,
                choice,
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                &url("/about.html"),
            ],
        );
        assert_eq!(answer, "200", "{option} {choice}");
    }
    // Several requests on one connection, and the private key never served.
    let twice = curl(
        &[],
        &[
            "-v",
            "--cacert",
            ca,
            "-o",
            "/dev/null",
            "-o",
            "/dev/null",
            &url("/"),
            &url("/tls/server.key"),
        ],
    );
    let log = String::from_utf8_lossy(&twice.stderr);
    assert!(log.contains("Re-using existing connection"), "{log}");
    assert!(log.contains("HTTP/1.1 404"), "{log}");
    // TLS 1.2 only: no suite for it, so no handshake.
    let old = curl(&[], &["--cacert", ca, "--tls-max", "1.2", &url("/")]);
    assert_eq!(old.status.code(), Some(35), "{old:?}");
    // Without the test CA, curl refuses the certificate (60).
    assert_eq!(curl(&[], &[&url("/")]).status.code(), Some(60));
}
