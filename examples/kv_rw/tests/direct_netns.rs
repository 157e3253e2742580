//! `mir-kv_rw --net direct` on a tap device inside a network namespace made for the test,
//! reached by the kernel's `nc`: the data written over the direct stack to a FAT image is
//! there after the process is killed and started again.
//!
//! These need root (to make namespaces and tap devices); elsewhere they say so and skip.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};

/// A network namespace with `tap0` at 10.0.0.1/24 on the host side, removed on drop.
struct Namespace {
    name: String,
    child: Option<Child>,
}

impl Namespace {
    fn new() -> Option<Namespace> {
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("skipped: network namespace tests need root");
            return None;
        }
        for tool in ["ip", "nc"] {
            let found = Command::new("sh")
                .arg("-c")
                .arg(format!("command -v {tool}"))
                .output();
            if !found.is_ok_and(|o| o.status.success()) {
                eprintln!("skipped: {tool} is not installed (iproute2, netcat-openbsd)");
                return None;
            }
        }
        let namespace = Namespace {
            name: format!("mirage-kvrw-{}", std::process::id()),
            child: None,
        };
        let added = Command::new("ip")
            .args(["netns", "add", &namespace.name])
            .status()
            .unwrap();
        assert!(added.success());
        namespace.exec(
            "ip link set lo up && ip tuntap add tap0 mode tap \
             && ip addr add 10.0.0.1/24 dev tap0 && ip link set tap0 up",
        );
        Some(namespace)
    }

    fn command(&self, script: &str) -> Command {
        let mut command = Command::new("ip");
        command.args(["netns", "exec", &self.name, "sh", "-c", script]);
        command
    }

    fn exec(&self, script: &str) -> Output {
        let output = self.command(script).output().unwrap();
        assert!(output.status.success(), "{script}: {output:?}");
        output
    }

    /// Starts the example in the namespace and waits until it listens.
    fn start(&mut self, args: &str) {
        self.stop();
        let script = format!(
            "exec {} --net direct {args}",
            env!("CARGO_BIN_EXE_mir-kv_rw")
        );
        let mut child = self
            .command(&script)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        assert_eq!(first, "kv_rw: listening on 10.0.0.2:8080\n");
        self.child = Some(child);
    }

    /// SIGKILL: the store gets no chance to tidy up.
    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Sends `requests` with the kernel's `nc` and returns the answer.
    fn talk(&self, requests: &str) -> String {
        let output = self.exec(&format!(
            "printf '{requests}' | timeout 20 nc -w 10 10.0.0.2 8080"
        ));
        String::from_utf8(output.stdout).unwrap()
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        self.stop();
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

#[test]
fn the_direct_stack_serves_a_fat_store_that_survives_a_kill() {
    let Some(mut namespace) = Namespace::new() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("store.img");
    let args = format!("--kv-rw fat --image {} --image-mib 4", image.display());
    namespace.start(&args);
    assert_eq!(
        namespace.talk("SET city Cambridge\\nSET notes/1 first\\nLIST\\nQUIT\\n"),
        "OK\nOK\nENTRY city value\nENTRY notes dictionary\nEND\nBYE\n"
    );
    namespace.start(&args);
    assert_eq!(
        namespace.talk("GET city\\nGET notes/1\\nQUIT\\n"),
        "VALUE Cambridge\nVALUE first\nBYE\n"
    );
}
