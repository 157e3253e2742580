//! A dom0 backend process's device, from its start to its end: made in the store (or, when a
//! frontend is already there, its stale connection closed), and on the way out closed and
//! removed, so nothing of it stays in the store and no guest waits on it.

#[allow(unused_imports)]
use crate::prelude::*;

use crate::abi::xenbus::XenbusState;
use crate::platform::{Store, XenError};
use crate::xenbus::{DevicePaths, create_device, read_state, write_state};

/// What [`start_device`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Started {
    /// The device was made: the frontend will connect to it.
    Made,
    /// A frontend was there already, connected (or connecting) to an earlier backend that is
    /// gone (this process restarted): its connection was closed, so its requests fail rather
    /// than wait, and the backend waits for it to start again. (Linux's frontends do not
    /// start again on their own: the device must be attached anew.)
    ClosedStale(XenbusState),
}

/// Makes the device's store directories with `extra` nodes in the backend's (see
/// [`create_device`]); or, if the frontend's directory already holds a state (a backend
/// before this one served it), leaves the frontend's nodes as they are and says Closing,
/// then Closed, in the backend's directory.
pub async fn start_device<S: Store>(
    store: &S,
    paths: &DevicePaths,
    extra: &[(&str, &str)],
) -> Result<Started, XenError> {
    match read_state(store, &paths.frontend).await? {
        state @ (XenbusState::Initialised
        | XenbusState::Connected
        | XenbusState::Reconfiguring
        | XenbusState::Reconfigured) => {
            for (node, value) in extra {
                store
                    .write(0, &format!("{}/{node}", paths.backend), value)
                    .await?;
            }
            write_state(store, &paths.backend, XenbusState::Closing).await?;
            write_state(store, &paths.backend, XenbusState::Closed).await?;
            Ok(Started::ClosedStale(state))
        }
        _ => {
            create_device(store, paths, extra).await?;
            Ok(Started::Made)
        }
    }
}

/// Ends the device: says Closing, then Closed, in the backend's directory (a frontend still
/// connected closes, and its requests in flight fail rather than wait), then removes both
/// directories. Parts already gone (the guest was destroyed) are passed over.
pub async fn remove_device<S: Store>(store: &S, paths: &DevicePaths) -> Result<(), XenError> {
    let front_state = read_state(store, &paths.frontend).await;
    if front_state.is_ok_and(|state| state != XenbusState::Unknown) {
        write_state(store, &paths.backend, XenbusState::Closing).await?;
        write_state(store, &paths.backend, XenbusState::Closed).await?;
    }
    for dir in [&paths.frontend, &paths.backend] {
        match store.rm(0, dir).await {
            Ok(()) | Err(XenError::NotFound(_)) => {}
            Err(other) => return Err(other),
        }
    }
    Ok(())
}
