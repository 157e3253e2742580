//! `mir-static_website --net direct` (our own stack, smoltcp) on a tap device inside a
//! network namespace made for the test, fetched by the kernel's `curl` from the namespace:
//! HTTP, HTTPS with the test CA, ranges and the large file intact.
//!
//! Needs root (namespaces and tap devices); elsewhere it says so and skips.

mod common;

use common::{Namespace, Server, curl, curl_ok, have, sha256, site_and_image, test_ca};

#[test]
fn http_and_https_over_the_direct_stack_on_a_tap_device() {
    if !have("curl") {
        return;
    }
    let Some(namespace) = Namespace::new("web") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    site_and_image(dir.path());
    let large = sha256(&std::fs::read(dir.path().join("site/files/large.bin")).unwrap());
    let inside = namespace.exec();
    for store in ["crunch", "fat"] {
        let server = Server::start(
            &inside,
            &["--net", "direct", "--kv-ro", store, "--https", "true"],
            dir.path(),
        );
        assert_eq!((server.http, server.https), (8080, Some(4433)));
        let ca = test_ca();
        let ca = ca.to_str().unwrap();
        let page = curl_ok(&inside, &["--cacert", ca, "https://10.0.0.2:4433/"]);
        assert_eq!(page.len(), 612, "{store}");
        assert!(page.contains("It works!"));
        let body = curl(
            &inside,
            &["--cacert", ca, "https://10.0.0.2:4433/files/large.bin"],
        );
        assert!(body.status.success(), "{store}: {body:?}");
        assert_eq!(sha256(&body.stdout), large, "{store}");
        let part = curl(
            &inside,
            &[
                "--cacert",
                ca,
                "-r",
                "100-199",
                "https://10.0.0.2:4433/files/large.bin",
            ],
        );
        assert_eq!(part.stdout.len(), 100);
        // Plain HTTP: the redirect, then the page through it.
        let moved = curl_ok(
            &inside,
            &[
                "-o",
                "/dev/null",
                "-w",
                "%{http_code} %{redirect_url}",
                "http://10.0.0.2:8080/about.html",
            ],
        );
        assert_eq!(moved, "301 https://10.0.0.2:4433/about.html", "{store}");
        let about = curl_ok(
            &inside,
            &["-L", "--cacert", ca, "http://10.0.0.2:8080/about.html"],
        );
        assert!(about.contains("<h1>About</h1>"), "{store}");
        assert_eq!(
            curl(&inside, &["https://10.0.0.2:4433/"]).status.code(),
            Some(60)
        );
    }
    // Plain HTTP without HTTPS: the large file intact, twice on one connection.
    let server = Server::start(&inside, &["--net", "direct"], dir.path());
    let body = curl(&inside, &["http://10.0.0.2:8080/files/large.bin"]);
    assert_eq!(sha256(&body.stdout), large);
    let _ = server;
}

#[test]
fn with_dhcp_the_site_says_the_address_it_was_given_and_serves_there() {
    if !have("curl") || !have("dnsmasq") {
        return;
    }
    let Some(namespace) = Namespace::new("web-dhcp") else {
        return;
    };
    let leases = tempfile::NamedTempFile::new().unwrap();
    let inside = namespace.exec();
    let mut dnsmasq = std::process::Command::new(inside[0])
        .args(&inside[1..])
        .args([
            "dnsmasq",
            "--no-daemon",
            "--port=0",
            "--interface=tap0",
            "--bind-interfaces",
        ])
        .arg("--dhcp-range=10.0.0.50,10.0.0.60,255.255.255.0,1h")
        .arg(format!("--dhcp-leasefile={}", leases.path().display()))
        .args(["--dhcp-authoritative", "--no-ping", "--log-facility=-"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // dnsmasq listening on port 67 first: a DISCOVER sent before would be lost.
    let listening = std::process::Command::new(inside[0])
        .args(&inside[1..])
        .args(["sh", "-c"])
        .arg("for _ in $(seq 200); do ss -Hlun 'sport = :67' | grep -q . && exit 0; sleep 0.05; done; exit 1")
        .status()
        .is_ok_and(|s| s.success());
    assert!(listening, "dnsmasq did not listen within 10 s");
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&inside, &["--net", "direct", "--dhcp", "true"], dir.path());
    let lease = server.said.join("\n");
    assert!(
        lease.contains("DHCP offer received and bound to 10.0.0."),
        "{lease}"
    );
    let address = server
        .listening
        .rsplit(' ')
        .next()
        .and_then(|at| at.strip_suffix(":8080"))
        .unwrap_or_else(|| panic!("no address in {:?}", server.listening))
        .to_owned();
    assert!(
        address.starts_with("10.0.0.5") || address == "10.0.0.60",
        "{}",
        server.listening
    );
    eprintln!("leased: {lease}; {}", server.listening);
    let page = curl_ok(&inside, &[&format!("http://{address}:8080/")]);
    assert_eq!(page.len(), 612);
    let _ = dnsmasq.kill();
    let _ = dnsmasq.wait();
}

#[test]
fn the_direct_stack_serves_the_site_over_ipv6_and_ipv4_on_the_same_ports() {
    if !have("curl") {
        return;
    }
    let Some(namespace) = Namespace::new("web6") else {
        return;
    };
    let inside = namespace.exec();
    let added = std::process::Command::new("ip")
        .args(["netns", "exec", &namespace.0])
        .args([
            "ip",
            "-6",
            "addr",
            "add",
            "fd00::1/64",
            "dev",
            "tap0",
            "nodad",
        ])
        .status()
        .unwrap();
    assert!(added.success());
    let dir = tempfile::tempdir().unwrap();
    site_and_image(dir.path());
    let large = sha256(&std::fs::read(dir.path().join("site/files/large.bin")).unwrap());
    let args = [
        "--net",
        "direct",
        "--ipv6",
        "fd00::2/64",
        "--accept-router-advertisements",
        "false",
        "--https",
        "true",
    ];
    let server = Server::start(&inside, &args, dir.path());
    assert_eq!((server.http, server.https), (8080, Some(4433)));
    let ca = test_ca();
    let ca = ca.to_str().unwrap();
    // The certificate names `localhost`: it is resolved to each family's address.
    for address in ["[fd00::2]", "10.0.0.2"] {
        let resolve = format!("localhost:4433:{address}");
        let page = curl_ok(
            &inside,
            &[
                "--cacert",
                ca,
                "--resolve",
                &resolve,
                "https://localhost:4433/",
            ],
        );
        assert!(page.contains("It works!"), "{address}");
        let body = curl(
            &inside,
            &[
                "--cacert",
                ca,
                "--resolve",
                &resolve,
                "https://localhost:4433/files/large.bin",
            ],
        );
        assert!(body.status.success(), "{address}: {body:?}");
        assert_eq!(sha256(&body.stdout), large, "{address}");
    }
    let moved = curl_ok(
        &inside,
        &[
            "-o",
            "/dev/null",
            "-w",
            "%{http_code} %{redirect_url}",
            "http://[fd00::2]:8080/about.html",
        ],
    );
    assert_eq!(moved, "301 https://[fd00::2]:4433/about.html");
    let _ = server;
}
