//! Reading, writing and waiting for `state` nodes.

#[allow(unused_imports)]
use crate::prelude::*;

use crate::abi::xenbus::XenbusState;
use crate::platform::{Store, Watch, XenError};

/// The state at `dir/state`: a missing or unreadable node is `Unknown`, a value that is not
/// a state is an error.
pub async fn read_state<S: Store>(store: &S, dir: &str) -> Result<XenbusState, XenError> {
    match store.read(0, &format!("{dir}/state")).await {
        Ok(text) => XenbusState::parse(&text)
            .ok_or_else(|| XenError::Other(format!("{dir}/state holds {text:?}, not a state"))),
        Err(XenError::NotFound(_)) => Ok(XenbusState::Unknown),
        Err(other) => Err(other),
    }
}

/// Writes `state` to `dir/state`.
pub async fn write_state<S: Store>(
    store: &S,
    dir: &str,
    state: XenbusState,
) -> Result<(), XenError> {
    store
        .write(0, &format!("{dir}/state"), &state.to_string())
        .await
}

/// Waits until the state at `dir` satisfies `done`, and returns it. Fails if the peer goes
/// to `Closing` or `Closed` (or its node disappears) when `done` does not accept those.
pub async fn wait_for_state<S: Store>(
    store: &S,
    dir: &str,
    done: impl Fn(XenbusState) -> bool,
) -> Result<XenbusState, XenError> {
    let watch = store.watch(&format!("{dir}/state")).await?;
    loop {
        let state = read_state(store, dir).await?;
        if done(state) {
            return Ok(state);
        }
        if matches!(state, XenbusState::Closing | XenbusState::Closed) {
            return Err(XenError::Other(format!("{dir} is {state:?}")));
        }
        watch.next().await?;
    }
}

/// Waits until the peer at `dir` has let go of this side's pages: it is `Closing` or
/// `Closed` (backends unmap before they say either; Linux's go `Closed` only after the
/// frontend has), its node is gone, or it started again (`Initialising`, `InitWait`: a
/// restarted peer holds nothing of the last connection). What a frontend that is shutting
/// down waits for, after saying `Closing`, before it frees what the backend used.
pub async fn wait_until_closed<S: Store>(store: &S, dir: &str) -> Result<(), XenError> {
    let watch = store.watch(&format!("{dir}/state")).await?;
    loop {
        match read_state(store, dir).await {
            Ok(
                XenbusState::Closing
                | XenbusState::Closed
                | XenbusState::Unknown
                | XenbusState::Initialising
                | XenbusState::InitWait,
            )
            | Err(XenError::PermissionDenied(_)) => {
                return Ok(());
            }
            Ok(_) => {}
            Err(other) => return Err(other),
        }
        watch.next().await?;
    }
}
