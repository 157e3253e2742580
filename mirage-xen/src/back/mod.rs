//! Backends: serving a guest's paravirtual devices from any device of this workspace.

#[allow(unused_imports)]
use crate::prelude::*;

mod blkback;
mod console;
mod netback;

pub use blkback::{Blkback, ServeError};
pub use console::ConsoleBack;
pub use netback::Netback;

use crate::abi::xenbus::XenbusState;
use crate::platform::Store;
use crate::xenbus::{DevicePaths, wait_for_state, write_state};

/// A backend's half of the handshake up to the frontend's keys: publishes `features` in its
/// directory, says InitWait, and waits for the frontend to be Initialised (or Connected,
/// which frontends may go to directly).
pub(crate) async fn await_frontend<S: Store>(
    store: &S,
    paths: &DevicePaths,
    features: &[(&str, String)],
) -> Result<(), ServeError> {
    for (node, value) in features {
        store
            .write(0, &format!("{}/{node}", paths.backend), value)
            .await?;
    }
    write_state(store, &paths.backend, XenbusState::InitWait).await?;
    wait_for_state(store, &paths.frontend, |s| {
        matches!(s, XenbusState::Initialised | XenbusState::Connected)
    })
    .await?;
    Ok(())
}

/// A number the frontend wrote in its directory (a grant reference, a port), checked.
pub(crate) async fn frontend_number<S: Store>(
    store: &S,
    paths: &DevicePaths,
    node: &str,
) -> Result<u32, ServeError> {
    let text = store.read(0, &format!("{}/{node}", paths.frontend)).await?;
    text.trim()
        .parse::<u32>()
        .map_err(|_| ServeError::Frontend(format!("{node} is {text:?}")))
}
