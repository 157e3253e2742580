//! The direct stack's IPv6 over a real tap device, in a network namespace made for the test:
//! its address from router advertisements sent by `dnsmasq --enable-ra`, reached by the
//! kernel's `ping -6` and `nc -6` (TCP and UDP), and one port serving both families.
//!
//! Needs root; elsewhere it says so and skips.

use mirage_net::{Addressing, DirectStack};
use mirage_types::{
    Flow, Ipv4Config, Ipv6Config, Read, StackV4V6, TcpFlow, TcpListenerV4V6, TcpV4V6,
    UdpListenerV4V6,
};
use mirage_unix::Tap;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::os::fd::AsRawFd;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

fn sh(script: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs `script` in the test's namespace (this thread is in it) and returns its output.
async fn shell(script: &str) -> Output {
    let script = script.to_string();
    tokio::task::spawn_blocking(move || {
        Command::new("sh")
            .arg("-c")
            .arg(&script)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

/// Deletes the namespace however the test ends.
struct Cleanup(String);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

/// Moves this thread into a new namespace with a tap whose kernel side is 10.0.0.1/24 and
/// fd00::1/64, or says why it cannot (not root, tools missing) and gives `None`.
fn enter_namespace(tag: &str) -> Option<Cleanup> {
    if unsafe { libc::geteuid() } != 0
        || !sh("command -v ip && command -v nc && command -v dnsmasq && command -v ping")
    {
        eprintln!("skipped: needs root, ip, nc, ping and dnsmasq");
        return None;
    }
    let name = format!("mirage-{tag}-{}", std::process::id());
    assert!(sh(&format!(
        "ip netns add {name} && ip netns exec {name} sh -c 'ip link set lo up && \
         ip tuntap add tap0 mode tap && ip addr add 10.0.0.1/24 dev tap0 && \
         ip -6 addr add fd00::1/64 dev tap0 nodad && ip link set tap0 up'"
    )));
    let cleanup = Cleanup(name.clone());
    let handle = std::fs::File::open(format!("/var/run/netns/{name}")).unwrap();
    // SAFETY: moves only this thread into the namespace.
    assert_eq!(
        unsafe { libc::setns(handle.as_raw_fd(), libc::CLONE_NEWNET) },
        0
    );
    Some(cleanup)
}

/// The direct stack on the namespace's tap, at 10.0.0.2/24.
async fn tap_stack() -> DirectStack<Tap> {
    let tap = Tap::open("tap0").unwrap();
    DirectStack::connect(tap, Addressing::Static(Ipv4Config::default()))
        .await
        .unwrap()
}

#[test]
fn dnsmasq_router_advertisements_address_the_stack_and_the_kernel_reaches_it_over_ipv6() {
    let Some(_cleanup) = enter_namespace("ipv6") else {
        return;
    };
    mirage_unix::run(async {
        let stack = tap_stack().await;
        stack.enable_ipv6(Ipv6Config::default()).unwrap();
        // The tap has a carrier now that it is open: dnsmasq can advertise on it.
        let mut dnsmasq = Command::new("dnsmasq")
            .args([
                "--no-daemon",
                "--port=0",
                "--interface=tap0",
                "--bind-interfaces",
                "--enable-ra",
                "--dhcp-range=fd00::,ra-only,64,1h",
                "--log-facility=-",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("dnsmasq starts");

        // SLAAC: fd00:: and the interface identifier of 02:..., from the advertisement.
        let mut slaac = None;
        for _ in 0..300 {
            slaac = stack
                .configured_ips()
                .iter()
                .find_map(|cidr| match cidr.address() {
                    IpAddr::V6(v6) if v6.segments()[0] == 0xfd00 => Some(v6),
                    _ => None,
                });
            if slaac.is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let slaac: Ipv6Addr = slaac.expect("no address from dnsmasq's advertisements in 30 s");
        let link_local = stack
            .configured_ips()
            .iter()
            .find_map(|cidr| match cidr.address() {
                IpAddr::V6(v6) if v6.is_unicast_link_local() => Some(v6),
                _ => None,
            })
            .unwrap();

        // One port, both families; one UDP port, both families.
        let tcp = stack.bind_tcp(7).await.unwrap();
        let udp = stack.bind_udp(7).await.unwrap();
        tokio::task::spawn_local(async move {
            while let Ok(flow) = tcp.accept().await {
                tokio::task::spawn_local(async move {
                    let mut line = Vec::new();
                    while let Ok(Read::Data(bytes)) = flow.read().await {
                        line.extend_from_slice(&bytes);
                    }
                    let answer = format!(
                        "{} said {}",
                        flow.peer().ip(),
                        String::from_utf8_lossy(&line)
                    );
                    let _ = flow.write(answer.as_bytes()).await;
                    let _ = flow.close().await;
                });
            }
        });
        tokio::task::spawn_local(async move {
            while let Ok(datagram) = udp.recv().await {
                let (src, data) = (datagram.src, &datagram.data);
                let answer = match data.len() {
                    // Large ones (in fragments) are answered with their size.
                    len if len > 100 => format!("{src} sent {len} bytes\n"),
                    _ => format!("{src} sent {}", String::from_utf8_lossy(data)),
                };
                let _ = udp.reply(&datagram, answer.as_bytes()).await;
            }
        });

        let ping = shell(&format!("ping -6 -c 3 -i 0.2 -W 2 {slaac}")).await;
        assert!(ping.status.success(), "ping -6 {slaac}: {ping:?}");
        let ping = shell(&format!("ping -6 -c 2 -i 0.2 -W 2 {link_local}%tap0")).await;
        assert!(ping.status.success(), "ping -6 {link_local}%tap0: {ping:?}");

        let tcp6 = shell(&format!("echo hi | nc -6 -s fd00::1 -N -w 5 {slaac} 7")).await;
        assert_eq!(String::from_utf8_lossy(&tcp6.stdout), "fd00::1 said hi\n");
        let tcp4 = shell("echo hi | nc -4 -N -w 5 10.0.0.2 7").await;
        assert_eq!(String::from_utf8_lossy(&tcp4.stdout), "10.0.0.1 said hi\n");
        let udp6 = shell(&format!("echo ping | nc -6 -s fd00::1 -u -w 1 {slaac} 7")).await;
        assert_eq!(String::from_utf8_lossy(&udp6.stdout), "fd00::1 sent ping\n");
        // 4,000 bytes: the kernel sends them in three IPv6 fragments, which the stack
        // reassembles (smoltcp alone answers a fragment with "unrecognised next header").
        let big = shell(&format!(
            "head -c 4000 /dev/zero | tr '\\0' x | nc -6 -s fd00::1 -u -w 1 {slaac} 7"
        ))
        .await;
        assert_eq!(
            String::from_utf8_lossy(&big.stdout),
            "fd00::1 sent 4000 bytes\n"
        );
        let udp4 = shell("echo ping | nc -4 -u -w 1 10.0.0.2 7").await;
        assert_eq!(
            String::from_utf8_lossy(&udp4.stdout),
            "10.0.0.1 sent ping\n"
        );

        // Our client to the kernel's server, over IPv6: the default router came from the
        // advertisement too, but fd00::1 is on the link.
        let server = std::thread::spawn(|| {
            Command::new("sh")
                .arg("-c")
                .arg("nc -6 -l -N -w 10 fd00::1 9001")
                .stdin(Stdio::null())
                .output()
                .unwrap()
        });
        let to: SocketAddr = "[fd00::1]:9001".parse().unwrap();
        let flow = loop {
            match stack.tcp().create_connection(to).await {
                Ok(flow) => break flow,
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        };
        let big: Vec<u8> = (0..200_000u32).map(|n| b'a' + (n % 26) as u8).collect();
        flow.write(&big).await.unwrap();
        flow.close().await.unwrap();
        while let Ok(Read::Data(_)) = flow.read().await {}
        let received = tokio::task::spawn_blocking(move || server.join().unwrap())
            .await
            .unwrap();
        assert!(
            received.stdout == big,
            "{} of {} bytes",
            received.stdout.len(),
            big.len()
        );
        let _ = dnsmasq.kill();
        let _ = dnsmasq.wait();
    });
}

#[test]
fn the_kernel_and_the_stack_each_refuse_an_address_the_other_has() {
    let Some(_cleanup) = enter_namespace("dad") else {
        return;
    };
    mirage_unix::run(async {
        let stack = tap_stack().await;
        // fd00::1 is the kernel's: its answer to our probe makes it a duplicate.
        let config = Ipv6Config::default()
            .addresses(vec![
                "fd00::1/64".parse().unwrap(),
                "fd00::5/64".parse().unwrap(),
            ])
            .slaac(false);
        stack.enable_ipv6(config).unwrap();
        assert_eq!(
            stack.tentative_ipv6().len(),
            3,
            "{:?}",
            stack.tentative_ipv6()
        );
        stack.ipv6_checked().await;
        let kernels: Ipv6Addr = "fd00::1".parse().unwrap();
        let ours: Ipv6Addr = "fd00::5".parse().unwrap();
        assert_eq!(stack.duplicate_ipv6(), [kernels]);
        let held: Vec<IpAddr> = stack.ip_addresses().iter().map(|c| c.address()).collect();
        assert!(
            held.contains(&ours.into()) && !held.contains(&kernels.into()),
            "{held:?}"
        );
        let ping = shell("ping -6 -c 2 -i 0.2 -W 2 fd00::5").await;
        assert!(ping.status.success(), "ping -6 fd00::5: {ping:?}");

        // The kernel's own check of fd00::5 meets our answer: it marks the address failed.
        assert!(
            shell("ip -6 addr add fd00::5/64 dev tap0")
                .await
                .status
                .success()
        );
        let mut shown = String::new();
        for _ in 0..50 {
            let addresses = shell("ip -6 addr show dev tap0").await;
            shown = String::from_utf8_lossy(&addresses.stdout).into_owned();
            if shown.contains("dadfailed") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(
            shown
                .lines()
                .any(|l| l.contains("fd00::5/64") && l.contains("dadfailed")),
            "{shown}"
        );
        // And the stack is still reached on it.
        let ping = shell("ping -6 -c 1 -W 2 fd00::5").await;
        assert!(ping.status.success(), "ping -6 fd00::5: {ping:?}");
    });
}
