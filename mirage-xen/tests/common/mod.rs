//! What the tests that use a real `xenstored` share.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// A running xenstored, stopped on drop.
pub struct Daemon {
    /// Its run directory (the socket, the pid, `fakexen/`).
    pub dir: tempfile::TempDir,
}

impl Daemon {
    /// Starts one; `None` (said) where the tool or root is missing.
    pub fn start() -> Option<Daemon> {
        // Beside the repository, or where this machine keeps the workspace tools (a clone
        // made elsewhere, as CI's may be).
        let beside =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/tools/xenstored/start.sh");
        let Some(script) = [
            beside.clone(),
            PathBuf::from("/work/shared/tools/xenstored/start.sh"),
        ]
        .into_iter()
        .find(|script| script.exists()) else {
            eprintln!("skipped: {} is not on this machine", beside.display());
            return None;
        };
        if unsafe { libc_geteuid() } != 0 {
            eprintln!("skipped: starting xenstored needs root (apt, /var/cache)");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        // One start at a time: the script may run apt-get, which takes a system-wide lock
        // (and tests run in parallel). A start that still fails is tried again.
        static STARTING: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _one = STARTING.lock().unwrap_or_else(|e| e.into_inner());
        let mut last = None;
        for _ in 0..3 {
            let output = Command::new("bash")
                .arg(&script)
                .arg(dir.path().join("run"))
                .output()
                .unwrap();
            if output.status.success() {
                return Some(Daemon { dir });
            }
            last = Some(String::from_utf8_lossy(&output.stderr).into_owned());
            std::thread::sleep(std::time::Duration::from_secs(2));
        }
        panic!("xenstored did not start: {}", last.unwrap_or_default());
    }

    /// The daemon's socket.
    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("run/socket")
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(pid) = std::fs::read_to_string(self.dir.path().join("run/pid")) {
            let _ = Command::new("kill").arg(pid.trim()).status();
        }
    }
}

unsafe extern "C" {
    #[link_name = "geteuid"]
    fn libc_geteuid() -> u32;
}
