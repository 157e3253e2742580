//! A frontend's link to its backend: the handshake that sets it up (again, after a backend
//! restarts), the event channel the frontend waits on, whether the backend is still there,
//! and an optional limit on how long a wait may take.

#[allow(unused_imports)]
use crate::prelude::*;

use crate::abi::xenbus::XenbusState;
use crate::platform::events::Events;
use crate::platform::{Platform, Port, Store, Watch, XenError};
use crate::xenbus::{DevicePaths, read_state, write_state};
use alloc::rc::Rc;
use core::cell::{Cell, RefCell};
use core::future::Future;
use core::task::{Context, Poll};
use core::time::Duration;
use mirage_types::Time;

/// A time limit on waits for the backend, with the clock that measures it.
pub(crate) type Limit = Option<(Rc<dyn Time>, Duration)>;

/// The connected frontend's side of the link.
pub(crate) struct Link<P: Platform> {
    pub(crate) platform: Rc<P>,
    pub(crate) paths: DevicePaths,
    port: Rc<P::Port>,
    events: RefCell<Events>,
    /// Fires when the backend's state leaves Connected (it closes, dies or restarts).
    backend: RefCell<Events>,
    backend_gone: Cell<bool>,
    limit: Limit,
}

impl<P: Platform> Link<P> {
    /// The link over `port`, once the backend said Connected.
    pub(crate) fn new(platform: Rc<P>, paths: DevicePaths, port: P::Port) -> Self {
        let port = Rc::new(port);
        let watched = (platform.clone(), paths.backend.clone());
        Link {
            events: RefCell::new(Events::new(port.clone())),
            backend: RefCell::new(Events::of(move || {
                let (platform, dir) = watched.clone();
                Box::pin(async move { until_not_connected(&*platform, &dir).await })
            })),
            backend_gone: Cell::new(false),
            port,
            platform,
            paths,
            limit: None,
        }
    }

    /// Rings the backend.
    pub(crate) fn notify(&self) {
        self.port.notify();
    }

    /// Ready once an event came or the backend left: the caller looks at its condition
    /// again (and at [`Link::backend_gone`]).
    pub(crate) fn poll(&self, cx: &mut Context<'_>) -> Poll<()> {
        let mut ready = false;
        if self.backend.borrow_mut().poll(cx).is_ready() {
            self.backend_gone.set(true);
            ready = true;
        }
        if self.events.borrow_mut().poll(cx).is_ready() {
            ready = true;
        }
        if ready {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }

    /// The task of `cx` waits no longer (see [`Events::leave`]).
    pub(crate) fn leave(&self, cx: &Context<'_>) {
        self.events.borrow_mut().leave(cx);
        self.backend.borrow_mut().leave(cx);
    }

    /// A waiter's future was dropped: the others look again.
    pub(crate) fn wake_all(&self) {
        self.events.borrow_mut().wake_all();
        self.backend.borrow_mut().wake_all();
    }

    /// Whether the backend has left Connected since the link was made.
    pub(crate) fn backend_gone(&self) -> bool {
        self.backend_gone.get()
    }

    /// Limits waits for the backend to `limit`.
    pub(crate) fn set_limit(&mut self, limit: Limit) {
        self.limit = limit;
    }

    /// The limit set.
    pub(crate) fn limit(&self) -> Limit {
        self.limit.clone()
    }

    /// Runs `wait`, or fails with the limit once it is up.
    pub(crate) async fn within<F: Future>(&self, wait: F) -> Result<F::Output, Duration> {
        let Some((time, limit)) = &self.limit else {
            return Ok(wait.await);
        };
        let wait = core::pin::pin!(wait);
        let expiry = core::pin::pin!(time.sleep(*limit));
        match futures::future::select(wait, expiry).await {
            futures::future::Either::Left((output, _)) => Ok(output),
            futures::future::Either::Right(((), _)) => Err(*limit),
        }
    }

    /// Closes the frontend's side: Closing, then (once the backend has let go of the
    /// frontend's pages, or the limit is up) Closed. Only after this may the pages go.
    pub(crate) async fn close(&self) {
        let store = &*self.platform;
        let _ = write_state(store, &self.paths.frontend, XenbusState::Closing).await;
        let _ = self
            .within(crate::xenbus::wait_until_closed(store, &self.paths.backend))
            .await;
        let _ = write_state(store, &self.paths.frontend, XenbusState::Closed).await;
    }
}

/// Returns once the backend at `dir` is no longer Connected (or cannot be read).
async fn until_not_connected<S: Store>(store: &S, dir: &str) {
    let Ok(watch) = store.watch(&format!("{dir}/state")).await else {
        return;
    };
    loop {
        if !matches!(read_state(store, dir).await, Ok(XenbusState::Connected)) {
            return;
        }
        if watch.next().await.is_err() {
            return;
        }
    }
}

/// The first half of a frontend's handshake: says Initialising and waits for the backend to
/// be waiting for the frontend's keys (InitWait). A backend still Connected to an earlier
/// frontend, Closing or Closed goes to InitWait when it sees Initialising; until then, and
/// while the backend has not started, this waits (as Linux's frontends do).
pub(crate) async fn await_backend<S: Store>(
    store: &S,
    paths: &DevicePaths,
) -> Result<(), XenError> {
    write_state(store, &paths.frontend, XenbusState::Initialising).await?;
    let watch = store.watch(&format!("{}/state", paths.backend)).await?;
    loop {
        if read_state(store, &paths.backend).await? == XenbusState::InitWait {
            return Ok(());
        }
        watch.next().await?;
    }
}
