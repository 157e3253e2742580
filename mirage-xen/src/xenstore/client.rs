//! The client: requests out, replies and watch events in, over one transport.

#[allow(unused_imports)]
use crate::prelude::*;

use super::wire::{self, Message};
use crate::abi::xs_wire::kind::*;
use crate::platform::{Permission, Store, TxId, Watch, XenError};
use alloc::collections::{BTreeMap, VecDeque};
use alloc::rc::Rc;
use async_trait::async_trait;
use core::cell::RefCell;
use core::future::poll_fn;
use core::task::{Context, Poll, Waker};
use futures::future::LocalBoxFuture;

/// Bytes to and from a xenstore server.
#[async_trait(?Send)]
pub trait XsTransport {
    /// Sends all of `bytes`.
    async fn send(&self, bytes: &[u8]) -> Result<(), XenError>;
    /// Appends at least one received byte to `buffer` (an error once the server is gone).
    async fn recv(&self, buffer: &mut Vec<u8>) -> Result<(), XenError>;
}

/// Watch events held at most per watch; the oldest go beyond.
const WATCH_QUEUE: usize = 4096;

#[derive(Default)]
struct WatchState {
    events: VecDeque<String>,
    waker: Option<Waker>,
}

struct State {
    next_id: u32,
    replies: BTreeMap<u32, Option<Message>>,
    wakers: Vec<Waker>,
    watches: BTreeMap<String, Rc<RefCell<WatchState>>>,
    buffer: Vec<u8>,
    reading: Option<LocalBoxFuture<'static, Result<Vec<u8>, XenError>>>,
    failed: Option<XenError>,
    next_token: u64,
    /// Watches dropped, to unregister with the next request.
    unwatch: Vec<(String, String)>,
}

/// A xenstore client over transport `T`.
pub struct XsClient<T: XsTransport + 'static> {
    transport: Rc<T>,
    state: RefCell<State>,
}

/// A watch of an [`XsClient`]; unregistered (with the next request) when dropped.
pub struct XsWatch {
    state: Rc<RefCell<WatchState>>,
    path: String,
    token: String,
    client: alloc::rc::Weak<dyn Connection>,
}

/// What a watch needs of its client, whatever the transport.
trait Connection {
    fn unwatch(&self, path: String, token: String);
    fn read_some(&self, cx: &mut Context<'_>) -> Result<(), XenError>;
}

impl<T: XsTransport + 'static> XsClient<T> {
    /// A client over `transport`.
    pub fn new(transport: T) -> Rc<Self> {
        Rc::new(XsClient {
            transport: Rc::new(transport),
            state: RefCell::new(State {
                next_id: 1,
                replies: BTreeMap::new(),
                wakers: Vec::new(),
                watches: BTreeMap::new(),
                buffer: Vec::new(),
                reading: None,
                failed: None,
                next_token: 0,
                unwatch: Vec::new(),
            }),
        })
    }

    /// Dispatches the messages in the buffer: replies to their requests, events to watches.
    fn dispatch(state: &mut State) -> Result<(), XenError> {
        while let Some(message) = wire::take(&mut state.buffer)? {
            if message.header.kind == XS_WATCH_EVENT {
                let parts = wire::strings(&message.payload);
                if let [path, token, ..] = parts.as_slice()
                    && let Some(watch) = state.watches.get(token)
                {
                    let mut watch = watch.borrow_mut();
                    if watch.events.len() >= WATCH_QUEUE {
                        watch.events.pop_front();
                    }
                    watch.events.push_back(path.clone());
                    if let Some(waker) = watch.waker.take() {
                        waker.wake();
                    }
                }
            } else if let Some(slot) = state.replies.get_mut(&message.header.req_id) {
                *slot = Some(message);
            }
        }
        for waker in state.wakers.drain(..) {
            waker.wake();
        }
        Ok(())
    }

    /// Reads from the transport (one shared read, whoever polls) and dispatches.
    fn poll_read(&self, cx: &mut Context<'_>) -> Result<(), XenError> {
        let mut state = self.state.borrow_mut();
        if let Some(error) = &state.failed {
            return Err(error.clone());
        }
        if !state.wakers.iter().any(|w| w.will_wake(cx.waker())) {
            state.wakers.push(cx.waker().clone());
        }
        let transport = self.transport.clone();
        let reading = state.reading.get_or_insert_with(|| {
            Box::pin(async move {
                let mut bytes = Vec::new();
                transport.recv(&mut bytes).await.map(|()| bytes)
            })
        });
        if let Poll::Ready(result) = reading.as_mut().poll(cx) {
            state.reading = None;
            match result {
                Ok(bytes) => {
                    state.buffer.extend_from_slice(&bytes);
                    let dispatched = Self::dispatch(&mut state);
                    if let Err(error) = dispatched {
                        state.failed = Some(error.clone());
                        return Err(error);
                    }
                    cx.waker().wake_by_ref();
                }
                Err(error) => {
                    state.failed = Some(error.clone());
                    for waker in state.wakers.drain(..) {
                        waker.wake();
                    }
                    return Err(error);
                }
            }
        }
        Ok(())
    }

    /// Sends one request and waits for its reply's payload (an `XS_ERROR` reply is an
    /// error naming `path`).
    async fn call(
        &self,
        kind: u32,
        tx: TxId,
        parts: &[&[u8]],
        last_nul: bool,
        path: &str,
    ) -> Result<Vec<u8>, XenError> {
        let pending: Vec<(String, String)> = core::mem::take(&mut self.state.borrow_mut().unwatch);
        for (watched, token) in pending {
            let id = self.reserve();
            let bytes = wire::request(
                XS_UNWATCH,
                id,
                0,
                &[watched.as_bytes(), token.as_bytes()],
                true,
            )?;
            self.transport.send(&bytes).await?;
            let _ = self.wait(id).await;
        }
        let id = self.reserve();
        let bytes = wire::request(kind, id, tx, parts, last_nul)?;
        if let Err(error) = self.transport.send(&bytes).await {
            self.state.borrow_mut().replies.remove(&id);
            return Err(error);
        }
        let reply = self.wait(id).await?;
        if reply.header.kind == XS_ERROR {
            return Err(wire::error(&reply.payload, path));
        }
        Ok(reply.payload)
    }

    fn reserve(&self) -> u32 {
        let mut state = self.state.borrow_mut();
        let id = state.next_id;
        state.next_id = state.next_id.wrapping_add(1).max(1);
        state.replies.insert(id, None);
        id
    }

    async fn wait(&self, id: u32) -> Result<Message, XenError> {
        poll_fn(|cx| {
            let answered = matches!(self.state.borrow().replies.get(&id), Some(Some(_)));
            if answered {
                let reply = self.state.borrow_mut().replies.remove(&id).flatten();
                return Poll::Ready(Ok(reply.expect("checked")));
            }
            if let Err(error) = self.poll_read(cx) {
                self.state.borrow_mut().replies.remove(&id);
                return Poll::Ready(Err(error));
            }
            Poll::Pending
        })
        .await
    }

    fn ok(payload: Vec<u8>) -> Result<(), XenError> {
        if wire::strings(&payload).first().map(String::as_str) == Some("OK") {
            Ok(())
        } else {
            Err(XenError::Other(format!(
                "xenstore answered {:?} instead of OK",
                String::from_utf8_lossy(&payload)
            )))
        }
    }
}

impl<T: XsTransport + 'static> XsClient<T> {
    /// Tells xenstored about a new guest (`XS_INTRODUCE`, dom0 only): its domain id, the
    /// frame of its xenstore page and its event channel port.
    pub async fn introduce(&self, domid: u16, mfn: u64, port: u32) -> Result<(), XenError> {
        let (domid, mfn, port) = (domid.to_string(), mfn.to_string(), port.to_string());
        let reply = self
            .call(
                XS_INTRODUCE,
                0,
                &[domid.as_bytes(), mfn.as_bytes(), port.as_bytes()],
                true,
                "",
            )
            .await?;
        Self::ok(reply)
    }
}

impl<T: XsTransport + 'static> Connection for XsClient<T> {
    fn unwatch(&self, path: String, token: String) {
        let mut state = self.state.borrow_mut();
        state.watches.remove(&token);
        state.unwatch.push((path, token));
    }

    fn read_some(&self, cx: &mut Context<'_>) -> Result<(), XenError> {
        self.poll_read(cx)
    }
}

#[async_trait(?Send)]
impl Watch for XsWatch {
    async fn next(&self) -> Result<String, XenError> {
        poll_fn(|cx| {
            if let Some(path) = self.state.borrow_mut().events.pop_front() {
                return Poll::Ready(Ok(path));
            }
            let Some(client) = self.client.upgrade() else {
                return Poll::Ready(Err(XenError::Other("the xenstore client is gone".into())));
            };
            self.state.borrow_mut().waker = Some(cx.waker().clone());
            // Someone must read the transport for events to come: the watch does too.
            if let Err(error) = client.read_some(cx) {
                return Poll::Ready(Err(error));
            }
            if let Some(path) = self.state.borrow_mut().events.pop_front() {
                return Poll::Ready(Ok(path));
            }
            Poll::Pending
        })
        .await
    }
}

impl Drop for XsWatch {
    fn drop(&mut self) {
        if let Some(client) = self.client.upgrade() {
            client.unwatch(self.path.clone(), self.token.clone());
        }
    }
}

#[async_trait(?Send)]
impl<T: XsTransport + 'static> Store for Rc<XsClient<T>> {
    type Watch = XsWatch;

    async fn read(&self, tx: TxId, path: &str) -> Result<String, XenError> {
        let value = self
            .call(XS_READ, tx, &[path.as_bytes()], true, path)
            .await?;
        Ok(String::from_utf8_lossy(&value).into_owned())
    }

    async fn write(&self, tx: TxId, path: &str, value: &str) -> Result<(), XenError> {
        let reply = self
            .call(
                XS_WRITE,
                tx,
                &[path.as_bytes(), value.as_bytes()],
                false,
                path,
            )
            .await?;
        XsClient::<T>::ok(reply)
    }

    async fn mkdir(&self, tx: TxId, path: &str) -> Result<(), XenError> {
        XsClient::<T>::ok(
            self.call(XS_MKDIR, tx, &[path.as_bytes()], true, path)
                .await?,
        )
    }

    async fn rm(&self, tx: TxId, path: &str) -> Result<(), XenError> {
        XsClient::<T>::ok(self.call(XS_RM, tx, &[path.as_bytes()], true, path).await?)
    }

    async fn directory(&self, tx: TxId, path: &str) -> Result<Vec<String>, XenError> {
        let reply = self
            .call(XS_DIRECTORY, tx, &[path.as_bytes()], true, path)
            .await?;
        Ok(wire::strings(&reply))
    }

    async fn get_perms(&self, tx: TxId, path: &str) -> Result<Vec<Permission>, XenError> {
        let reply = self
            .call(XS_GET_PERMS, tx, &[path.as_bytes()], true, path)
            .await?;
        wire::strings(&reply)
            .iter()
            .map(|text| {
                Permission::from_wire(text)
                    .ok_or_else(|| XenError::Other(format!("xenstore sent permission {text:?}")))
            })
            .collect()
    }

    async fn set_perms(&self, tx: TxId, path: &str, perms: &[Permission]) -> Result<(), XenError> {
        let texts: Vec<String> = perms.iter().map(Permission::to_wire).collect();
        let mut parts: Vec<&[u8]> = vec![path.as_bytes()];
        parts.extend(texts.iter().map(|t| t.as_bytes()));
        XsClient::<T>::ok(self.call(XS_SET_PERMS, tx, &parts, true, path).await?)
    }

    async fn transaction_start(&self) -> Result<TxId, XenError> {
        let reply = self
            .call(XS_TRANSACTION_START, 0, &[b""], false, "")
            .await?;
        let text = wire::strings(&reply).into_iter().next().unwrap_or_default();
        text.parse()
            .map_err(|_| XenError::Other(format!("xenstore sent transaction id {text:?}")))
    }

    async fn transaction_end(&self, tx: TxId, commit: bool) -> Result<(), XenError> {
        let flag: &[u8] = if commit { b"T" } else { b"F" };
        XsClient::<T>::ok(self.call(XS_TRANSACTION_END, tx, &[flag], true, "").await?)
    }

    async fn watch(&self, path: &str) -> Result<XsWatch, XenError> {
        let (token, state) = {
            let mut client = self.state.borrow_mut();
            let token = format!("mirage-{}", client.next_token);
            client.next_token += 1;
            let state = Rc::new(RefCell::new(WatchState::default()));
            client.watches.insert(token.clone(), state.clone());
            (token, state)
        };
        let reply = self
            .call(
                XS_WATCH,
                0,
                &[path.as_bytes(), token.as_bytes()],
                true,
                path,
            )
            .await;
        if let Err(error) = reply.and_then(XsClient::<T>::ok) {
            self.state.borrow_mut().watches.remove(&token);
            return Err(error);
        }
        let weak: alloc::rc::Weak<dyn Connection> =
            Rc::downgrade(self) as alloc::rc::Weak<dyn Connection>;
        Ok(XsWatch {
            state,
            path: path.to_owned(),
            token,
            client: weak,
        })
    }
}
