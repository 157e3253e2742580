//! Being asked to stop: `SIGTERM` (what `kill` and service managers send) or `SIGINT`
//! (Ctrl-C), so a program can end its work in order instead of dying mid-way.

/// Resolves when the process receives `SIGTERM` or `SIGINT`; from the first call on, those
/// signals no longer end the process by themselves. An error if the handlers cannot be set.
///
/// ```no_run
/// mirage_unix::run(async {
///     tokio::select! {
///         _ = mirage_unix::stop_requested() => println!("stopping in order"),
///         _ = std::future::pending::<()>() => {}
///     }
/// });
/// ```
pub async fn stop_requested() -> std::io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    tokio::select! {
        _ = terminate.recv() => {}
        _ = interrupt.recv() => {}
    }
    Ok(())
}
