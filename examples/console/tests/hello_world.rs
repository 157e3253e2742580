//! The hello-world example: its `Main` over an in-memory console, and the real binary.

use mir_console::unikernel::Main;
use mirage_console::MemConsole;
use mirage_unix::UnixTime;
use std::process::Command;
use std::time::{Duration, Instant};

const EXPECTED: &str = "hello\nworld\nhello\nworld\nhello\nworld\nhello\nworld\n";

/// Runs `Main` on paused virtual time, checking the transcript at each point in time: the
/// output must change only when a second has passed.
#[tokio::test(start_paused = true)]
async fn main_prints_hello_world_four_times_a_second_apart() {
    let console = MemConsole::new();
    let local = tokio::task::LocalSet::new();
    let app = Main::new(console.clone(), UnixTime);
    let done = local.spawn_local(async move { app.start().await });
    let step = |console: &MemConsole, expected: &str| assert_eq!(console.output(), expected);

    local.run_until(tokio::task::yield_now()).await;
    step(&console, "hello\n");
    let mut transcript = String::from("hello\n");
    for round in 1..=4 {
        // Just before the second is up, nothing more has been printed.
        local
            .run_until(tokio::time::sleep(Duration::from_millis(999)))
            .await;
        step(&console, &transcript);
        local
            .run_until(tokio::time::sleep(Duration::from_millis(1)))
            .await;
        local.run_until(tokio::task::yield_now()).await;
        transcript.push_str(if round < 4 {
            "world\nhello\n"
        } else {
            "world\n"
        });
        step(&console, &transcript);
    }
    local.run_until(done).await.unwrap().unwrap();
    assert_eq!(console.output(), EXPECTED);
}

#[test]
fn the_binary_prints_exactly_eight_lines_in_about_four_seconds() {
    let start = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_mir-console"))
        .output()
        .unwrap();
    let elapsed = start.elapsed();
    assert!(output.status.success(), "{output:?}");
    assert_eq!(String::from_utf8_lossy(&output.stdout), EXPECTED);
    assert!(output.stderr.is_empty(), "{output:?}");
    assert!(elapsed >= Duration::from_secs(4), "took {elapsed:?}");
    assert!(elapsed < Duration::from_secs(20), "took {elapsed:?}");
}
