//! The example prints `YES!` a second apart; `NO!` and `NO! NO!` when the stores disagree or
//! fail.

use mir_kv_ro_crunch::Static1;
use mir_kv_ro_crunch::unikernel::{Main, Verdict};
use mirage_console::MemConsole;
use mirage_kv::{Crunch, DirectKv};
use mirage_unix::UnixTime;
use std::process::Command;
use std::time::{Duration, Instant};

#[test]
fn the_binary_says_yes_three_times() {
    let start = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_mir-kv_ro_crunch"))
        .args(["--count", "3"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "YES!\nYES!\nYES!\n"
    );
    assert!(start.elapsed() >= Duration::from_secs(2));
}

#[test]
fn disagreement_and_failure_are_reported() {
    mirage_unix::run(async {
        let other = tempfile::tempdir().unwrap();
        std::fs::write(other.path().join("a"), "other\n").unwrap();
        let direct = DirectKv::connect(other.path()).await.unwrap();
        let main = Main::new(
            MemConsole::new(),
            UnixTime,
            Crunch::<Static1>::new(),
            direct,
        );
        assert_eq!(main.round().await, Verdict::No);
        let empty = tempfile::tempdir().unwrap();
        let missing = DirectKv::connect(empty.path()).await.unwrap();
        let console = MemConsole::new();
        let main = Main::new(console.clone(), UnixTime, Crunch::<Static1>::new(), missing);
        main.start(Some(1)).await.unwrap();
        assert_eq!(console.output(), "NO! NO!\n");
    });
}
