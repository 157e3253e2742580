//! `mirage-blkback` and `mirage-netback` as processes against a real `xenstored`: stopped
//! with `SIGTERM` they close their device and leave nothing in the store; killed and started
//! again while the guest's frontend is still connected, they close that stale connection
//! instead of setting the guest back to Initialising and waiting for ever.

mod common;

use common::Daemon;
use mirage_xen::platform::Store;
use mirage_xen::platform::linux::XsSocket;
use mirage_xen::xenstore::XsClient;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// One backend tool, as a test runs it.
struct Tool {
    binary: &'static str,
    frontend: &'static str,
    backend: &'static str,
    args: Vec<String>,
    /// `ip netns exec NAME` for netback's tap device.
    prefix: Vec<String>,
}

fn blkback(image: &Path) -> Tool {
    Tool {
        binary: env!("CARGO_BIN_EXE_mirage-blkback"),
        frontend: "/local/domain/7/device/vbd/51728",
        backend: "/local/domain/0/backend/mirage-vbd/7/51728",
        args: vec![
            "--domain".into(),
            "7".into(),
            "--vdev".into(),
            "xvdb".into(),
            "--image".into(),
            image.display().to_string(),
        ],
        prefix: Vec::new(),
    }
}

fn netback(namespace: &str) -> Tool {
    Tool {
        binary: env!("CARGO_BIN_EXE_mirage-netback"),
        frontend: "/local/domain/7/device/vif/0",
        backend: "/local/domain/0/backend/mirage-vif/7/0",
        args: ["--domain", "7", "--vif", "0", "--tap", "mtap0"]
            .map(String::from)
            .to_vec(),
        prefix: ["ip", "netns", "exec", namespace]
            .map(String::from)
            .to_vec(),
    }
}

impl Tool {
    fn start(&self, daemon: &Daemon) -> Child {
        let mut command = match self.prefix.split_first() {
            Some((first, rest)) => {
                let mut command = Command::new(first);
                command.args(rest).arg(self.binary);
                command
            }
            None => Command::new(self.binary),
        };
        command
            .args(&self.args)
            .env("XENSTORED_PATH", daemon.socket())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }
}

async fn read(store: &impl Store, path: &str) -> Option<String> {
    store.read(0, path).await.ok()
}

/// Waits (at most 10 s) until `path` holds `value`.
async fn until(store: &impl Store, path: &str, value: &str) {
    let began = Instant::now();
    while read(store, path).await.as_deref() != Some(value) {
        assert!(
            began.elapsed() < Duration::from_secs(10),
            "{path} is {:?}, not {value}",
            read(store, path).await
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Sends `signal` (`-TERM`) and waits (at most 10 s) for the process to end.
fn stop(child: &mut Child, signal: &str) -> std::process::ExitStatus {
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args([signal, &pid])
            .status()
            .unwrap()
            .success()
    );
    let began = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(
            began.elapsed() < Duration::from_secs(10),
            "still running after {signal}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn stderr_of(child: &mut Child) -> String {
    let mut text = String::new();
    for line in BufReader::new(child.stderr.take().unwrap()).lines() {
        text.push_str(&line.unwrap());
        text.push('\n');
    }
    text
}

async fn lifecycle(tool: &Tool, daemon: &Daemon) {
    let store = XsClient::new(XsSocket::connect(Some(&daemon.socket())).await.unwrap());
    let front_state = format!("{}/state", tool.frontend);
    let back_state = format!("{}/state", tool.backend);

    // Stopped while waiting for the guest: everything it made goes.
    let mut child = tool.start(daemon);
    until(&store, &back_state, "2").await;
    assert_eq!(read(&store, &front_state).await.as_deref(), Some("1"));
    let status = stop(&mut child, "-TERM");
    assert!(status.success(), "{status:?}: {}", stderr_of(&mut child));
    assert_eq!(
        read(&store, tool.frontend).await,
        None,
        "the frontend's nodes stayed"
    );
    assert_eq!(
        read(&store, tool.backend).await,
        None,
        "the backend's nodes stayed"
    );

    // What a run killed outright (SIGKILL) while a guest was connected leaves: both sides
    // Connected. Started again, it leaves the guest's state alone and closes the stale
    // connection.
    for (path, value) in [
        (front_state.clone(), "4".to_owned()),
        (
            format!("{}/backend", tool.frontend),
            tool.backend.to_owned(),
        ),
        (back_state.clone(), "4".to_owned()),
        (
            format!("{}/frontend", tool.backend),
            tool.frontend.to_owned(),
        ),
    ] {
        store.write(0, &path, &value).await.unwrap();
    }
    let watch = mirage_xen::platform::Store::watch(&store, &back_state)
        .await
        .unwrap();
    let mut child = tool.start(daemon);
    let mut seen = Vec::new();
    let began = Instant::now();
    // It says Closed (6) to the stale connection, then InitWait (2) for the guest anew; the
    // two writes may come between two reads (under load they did), so Closed may not be
    // seen here: the daemon's own report of the close is checked below.
    while seen.last().map(String::as_str) != Some("2") {
        assert!(
            began.elapsed() < Duration::from_secs(10),
            "backend states {seen:?}"
        );
        let _ = tokio::time::timeout(
            Duration::from_millis(200),
            mirage_xen::platform::Watch::next(&watch),
        )
        .await;
        if let Some(state) = read(&store, &back_state).await
            && seen.last() != Some(&state)
        {
            seen.push(state);
        }
    }
    assert_eq!(
        read(&store, &front_state).await.as_deref(),
        Some("4"),
        "states {seen:?}"
    );
    let status = stop(&mut child, "-TERM");
    let said = stderr_of(&mut child);
    assert!(status.success(), "{status:?}: {said}");
    assert!(said.contains("earlier backend: closed that"), "{said}");
    assert_eq!(read(&store, tool.frontend).await, None);
    assert_eq!(read(&store, tool.backend).await, None);
}

#[test]
fn blkback_closes_and_cleans_up_when_stopped_and_after_a_restart() {
    let Some(daemon) = Daemon::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("disk.img");
    std::fs::File::create(&image)
        .unwrap()
        .set_len(1 << 20)
        .unwrap();
    mirage_unix::run(lifecycle(&blkback(&image), &daemon));
}

#[test]
fn netback_closes_and_cleans_up_when_stopped_and_after_a_restart() {
    let Some(daemon) = Daemon::start() else {
        return;
    };
    let namespace = format!("mirage-netback-{}", std::process::id());
    assert!(
        Command::new("ip")
            .args(["netns", "add", &namespace])
            .status()
            .unwrap()
            .success()
    );
    let tool = netback(&namespace);
    mirage_unix::run(lifecycle(&tool, &daemon));
    let _ = Command::new("ip")
        .args(["netns", "del", &namespace])
        .status();
}
