//! What the dom0 tools (`mirage-blkback`, `mirage-netback`) share: serving a device until
//! the process is asked to stop, then closing it in order.

#[allow(unused_imports)]
use crate::prelude::*;

use crate::back::ServeError;
use core::future::Future;
use std::eprintln;
use std::time::Duration;

/// How long a stopping backend waits for the guest to close its side.
pub const CLOSE_WAIT: Duration = Duration::from_secs(5);

/// Runs `serving` (a backend's `run`) until it ends or the process gets `SIGTERM` or
/// `SIGINT`; then calls `stop` (the backend's `stop`) and lets `serving` close the device,
/// for at most [`CLOSE_WAIT`]. `what` names the device in messages.
pub async fn serve_until_stopped(
    serving: impl Future<Output = Result<(), ServeError>>,
    stop: impl FnOnce(),
    what: &str,
) -> Result<(), String> {
    let mut serving = core::pin::pin!(serving);
    tokio::select! {
        served = &mut serving => return served.map_err(|e| e.to_string()),
        signal = mirage_unix::stop_requested() => {
            signal.map_err(|e| format!("listening for SIGTERM: {e}"))?;
        }
    }
    eprintln!("stopping: closing the {what}");
    stop();
    match tokio::time::timeout(CLOSE_WAIT, serving).await {
        Ok(served) => served.map_err(|e| e.to_string()),
        Err(_) => {
            eprintln!("the guest did not close the {what} within {CLOSE_WAIT:?}: leaving it");
            Ok(())
        }
    }
}
