//! Backends: serving a guest's paravirtual devices from any device of this workspace.

#[allow(unused_imports)]
use crate::prelude::*;

mod blkback;
mod console;
mod lifecycle;
mod netback;
mod stop;

pub use blkback::{Blkback, ServeError};
pub use console::ConsoleBack;
pub use lifecycle::{Started, remove_device, start_device};
pub use netback::Netback;

use crate::abi::xenbus::XenbusState;
use crate::platform::{Store, Watch};
use crate::xenbus::{DevicePaths, read_state, write_state};
use core::future::Future;

/// Whether a frontend in `state` has left the connection being served: it is closing, its
/// domain is gone, or it started again (Initialising: a frontend that restarted).
pub(crate) fn frontend_left(state: XenbusState) -> bool {
    matches!(
        state,
        XenbusState::Closing
            | XenbusState::Closed
            | XenbusState::Unknown
            | XenbusState::Initialising
    )
}

/// Serves connection after connection of one device: runs `serve` for one; once the
/// frontend comes back (Initialising or Initialised), runs it again. Returns when the device
/// is removed (the frontend's directory is gone, or the backend's `online` node is 0), once
/// `stop` is set (after `serve` has closed its connection), or with the first error.
pub(crate) async fn serve_connections<S: Store, F: Future<Output = Result<(), ServeError>>>(
    store: &S,
    paths: &DevicePaths,
    stop: &stop::StopFlag,
    serve: impl Fn() -> F,
) -> Result<(), ServeError> {
    loop {
        serve().await?;
        if stop.is_set() {
            return Ok(());
        }
        let watch = store.watch(&format!("{}/state", paths.frontend)).await?;
        loop {
            let online = store.read(0, &format!("{}/online", paths.backend)).await;
            if online.is_ok_and(|o| o.trim() == "0") {
                return Ok(());
            }
            match read_state(store, &paths.frontend).await? {
                XenbusState::Unknown => return Ok(()),
                XenbusState::Initialising | XenbusState::Initialised | XenbusState::Connected => {
                    break;
                }
                _ => {}
            }
            let next = core::pin::pin!(watch.next());
            let stopped = core::pin::pin!(stop.wait());
            match futures::future::select(next, stopped).await {
                futures::future::Either::Left((changed, _)) => {
                    changed?;
                }
                futures::future::Either::Right(_) => return Ok(()),
            }
        }
    }
}

/// `handshake`, unless `stop` is set first: then `None`.
pub(crate) async fn unless_stopped<T>(
    stop: &stop::StopFlag,
    handshake: impl Future<Output = Result<T, ServeError>>,
) -> Result<Option<T>, ServeError> {
    let handshake = core::pin::pin!(handshake);
    let stopped = core::pin::pin!(stop.wait());
    match futures::future::select(handshake, stopped).await {
        futures::future::Either::Left((done, _)) => done.map(Some),
        futures::future::Either::Right(_) => Ok(None),
    }
}

/// A backend's half of the handshake up to the frontend's keys: publishes `features` in its
/// directory, says InitWait, and waits for the frontend to be Initialised (or Connected,
/// which frontends may go to directly). A frontend already Connected before InitWait was
/// said is connected to an earlier backend (this one restarted): its keys are stale, so
/// this waits for it to reconnect. A frontend closing or starting over is waited for; one
/// whose directory is gone is an error.
pub(crate) async fn await_frontend<S: Store>(
    store: &S,
    paths: &DevicePaths,
    features: &[(&str, String)],
) -> Result<(), ServeError> {
    let mut stale = read_state(store, &paths.frontend).await? == XenbusState::Connected;
    for (node, value) in features {
        store
            .write(0, &format!("{}/{node}", paths.backend), value)
            .await?;
    }
    let watch = store.watch(&format!("{}/state", paths.frontend)).await?;
    // The event every watch gives at once; any later one is the frontend writing its state
    // after it saw InitWait (it may have gone through several states by the time they are
    // read, so the states alone cannot tell a fresh Connected from a stale one).
    watch.next().await?;
    write_state(store, &paths.backend, XenbusState::InitWait).await?;
    loop {
        match read_state(store, &paths.frontend).await? {
            XenbusState::Connected if stale => {}
            XenbusState::Initialised | XenbusState::Connected => return Ok(()),
            XenbusState::Unknown => {
                return Err(ServeError::Frontend("its directory is gone".into()));
            }
            _ => {}
        }
        watch.next().await?;
        stale = false;
    }
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
