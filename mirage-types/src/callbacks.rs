//! V1's callback form of listening (and Mirage 4's, on the dual stack), served over the pull
//! form by one loop every stack shares.
//!
//! `listen_tcpv4`/`listen_udpv4` only record a callback; [`StackV4::listen`] binds each
//! recorded port with the stack's own `bind_tcpv4`/`bind_udpv4` and runs every invocation
//! (one per connection or datagram) as a future of its own inside `listen`. No task is
//! spawned, so the callback form needs no particular executor, and a slow callback holds up
//! neither the others nor the stack.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

use crate::{
    StackError, StackFlow, StackFlowV4V6, StackV4, StackV4V6, TcpCallback, TcpError, TcpListener,
    TcpListenerV4V6, UdpDatagram, UdpError, UdpListener, UdpListenerV4V6,
};
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::rc::Rc;
use core::cell::{Cell, RefCell};
use core::future::{Future, poll_fn};
use core::task::{Poll, Waker};
use futures::future::LocalBoxFuture;
use futures::stream::{FuturesUnordered, StreamExt};

/// At most this many callbacks for datagrams of one UDP port run at once. Beyond it the
/// port is not read, so datagrams wait in (and beyond its bound, are dropped from) the port's
/// own queue: a flood costs bounded memory.
pub const UDP_CALLBACKS_IN_FLIGHT: usize = 256;

/// A callback run once per datagram of type `D`, each call as its own task: V1's
/// [`crate::UdpCallback`] for `D` = [`UdpDatagram`], Mirage 4's
/// [`crate::UdpCallbackV4V6`] for the dual stack's datagrams.
pub type DatagramCallback<D> = Rc<dyn Fn(D) -> LocalBoxFuture<'static, ()>>;

/// The callbacks registered on a stack, by port: for flows `F` and datagrams `D` (V1's
/// [`UdpDatagram`] unless the dual stack's). A stack keeps one and hands it to
/// [`serve_callbacks`] (or [`serve_callbacks_v4v6`]) from its `listen`.
pub struct CallbackRegistry<F, D = UdpDatagram> {
    tcp: RefCell<BTreeMap<u16, TcpCallback<F>>>,
    udp: RefCell<BTreeMap<u16, DatagramCallback<D>>>,
    changed: Cell<bool>,
    waker: RefCell<Option<Waker>>,
    /// The drop counters of the UDP ports `serve_callbacks` bound.
    udp_drops: RefCell<BTreeMap<u16, Rc<dyn Fn() -> u64>>>,
}

impl<F, D> Default for CallbackRegistry<F, D> {
    fn default() -> Self {
        CallbackRegistry {
            tcp: RefCell::default(),
            udp: RefCell::default(),
            changed: Cell::new(false),
            waker: RefCell::default(),
            udp_drops: RefCell::default(),
        }
    }
}

impl<F, D> CallbackRegistry<F, D> {
    /// Records `callback` for connections to `port`, replacing an earlier one at once.
    pub fn set_tcp(&self, port: u16, callback: TcpCallback<F>) {
        self.tcp.borrow_mut().insert(port, callback);
        self.wake();
    }

    /// Records `callback` for datagrams to `port`, replacing an earlier one at once.
    pub fn set_udp(&self, port: u16, callback: DatagramCallback<D>) {
        self.udp.borrow_mut().insert(port, callback);
        self.wake();
    }

    /// The TCP ports with a callback.
    pub fn tcp_ports(&self) -> Vec<u16> {
        self.tcp.borrow().keys().copied().collect()
    }

    /// The UDP ports with a callback.
    pub fn udp_ports(&self) -> Vec<u16> {
        self.udp.borrow().keys().copied().collect()
    }

    /// Datagrams to UDP `port` dropped because its callbacks could not keep up (`None`
    /// until `listen` has bound the port).
    pub fn udp_dropped(&self, port: u16) -> Option<u64> {
        self.udp_drops.borrow().get(&port).map(|count| count())
    }

    fn wake(&self) {
        self.changed.set(true);
        if let Some(waker) = self.waker.borrow_mut().take() {
            waker.wake();
        }
    }

    fn tcp_callback(&self, port: u16) -> Option<TcpCallback<F>> {
        self.tcp.borrow().get(&port).cloned()
    }

    fn udp_callback(&self, port: u16) -> Option<DatagramCallback<D>> {
        self.udp.borrow().get(&port).cloned()
    }
}

/// What one of the futures `serve` waits on produced.
enum Event<F, D, T, U> {
    Accepted(u16, Rc<T>, Result<F, TcpError>),
    Received(u16, Rc<U>, Result<D, UdpError>),
    TcpDone,
    UdpDone(u16),
}

/// The pull form the loop serves callbacks over: a stack's way of binding ports, and its
/// listeners' of accepting and receiving (V1's `StackV4` or the dual `StackV4V6`).
trait Ports {
    type Flow: 'static;
    type Datagram: 'static;
    type Tcp: 'static;
    type Udp: 'static;
    fn bind_tcp(&self, port: u16) -> LocalBoxFuture<'_, Result<Self::Tcp, StackError>>;
    fn bind_udp(&self, port: u16) -> LocalBoxFuture<'_, Result<Self::Udp, StackError>>;
    fn accept(listener: &Self::Tcp) -> LocalBoxFuture<'_, Result<Self::Flow, TcpError>>;
    fn recv(listener: &Self::Udp) -> LocalBoxFuture<'_, Result<Self::Datagram, UdpError>>;
    fn dropped(listener: &Self::Udp) -> u64;
}

/// V1's ports.
struct V4<'a, S>(&'a S);

impl<S: StackV4> Ports for V4<'_, S> {
    type Flow = StackFlow<S>;
    type Datagram = UdpDatagram;
    type Tcp = S::TcpListener;
    type Udp = S::UdpListener;

    fn bind_tcp(&self, port: u16) -> LocalBoxFuture<'_, Result<Self::Tcp, StackError>> {
        self.0.bind_tcpv4(port)
    }
    fn bind_udp(&self, port: u16) -> LocalBoxFuture<'_, Result<Self::Udp, StackError>> {
        self.0.bind_udpv4(port)
    }
    fn accept(listener: &Self::Tcp) -> LocalBoxFuture<'_, Result<Self::Flow, TcpError>> {
        listener.accept()
    }
    fn recv(listener: &Self::Udp) -> LocalBoxFuture<'_, Result<UdpDatagram, UdpError>> {
        listener.recv()
    }
    fn dropped(listener: &Self::Udp) -> u64 {
        listener.dropped()
    }
}

/// The dual stack's ports.
struct V4V6<'a, S>(&'a S);

impl<S: StackV4V6> Ports for V4V6<'_, S> {
    type Flow = StackFlowV4V6<S>;
    type Datagram = crate::UdpDatagramV4V6;
    type Tcp = S::TcpListener;
    type Udp = S::UdpListener;

    fn bind_tcp(&self, port: u16) -> LocalBoxFuture<'_, Result<Self::Tcp, StackError>> {
        self.0.bind_tcp(port)
    }
    fn bind_udp(&self, port: u16) -> LocalBoxFuture<'_, Result<Self::Udp, StackError>> {
        self.0.bind_udp(port)
    }
    fn accept(listener: &Self::Tcp) -> LocalBoxFuture<'_, Result<Self::Flow, TcpError>> {
        listener.accept()
    }
    fn recv(listener: &Self::Udp) -> LocalBoxFuture<'_, Result<Self::Datagram, UdpError>> {
        listener.recv()
    }
    fn dropped(listener: &Self::Udp) -> u64 {
        listener.dropped()
    }
}

/// Serves the callbacks of `registry` over `stack`'s pull form until `stopped` resolves (the
/// stack was disconnected) or a port cannot be bound. Stacks call it from
/// [`StackV4::listen`].
pub async fn serve_callbacks<S: StackV4>(
    stack: &S,
    registry: &CallbackRegistry<StackFlow<S>>,
    stopped: impl Future<Output = ()>,
) -> Result<(), StackError> {
    serve(V4(stack), registry, stopped).await
}

/// [`serve_callbacks`] for the dual stack: its ports bound for both families. Stacks call it
/// from [`StackV4V6::listen_v4v6`].
pub async fn serve_callbacks_v4v6<S: StackV4V6>(
    stack: &S,
    registry: &CallbackRegistry<StackFlowV4V6<S>, crate::UdpDatagramV4V6>,
    stopped: impl Future<Output = ()>,
) -> Result<(), StackError> {
    serve(V4V6(stack), registry, stopped).await
}

/// The loop behind both.
async fn serve<P: Ports>(
    stack: P,
    registry: &CallbackRegistry<P::Flow, P::Datagram>,
    stopped: impl Future<Output = ()>,
) -> Result<(), StackError> {
    type Pending<'a, F, D, T, U> = FuturesUnordered<LocalBoxFuture<'a, Event<F, D, T, U>>>;
    let mut pending: Pending<'_, P::Flow, P::Datagram, P::Tcp, P::Udp> = FuturesUnordered::new();
    let mut tcp_bound = BTreeSet::new();
    let mut udp_bound = BTreeSet::new();
    let mut udp_running: BTreeMap<u16, usize> = BTreeMap::new();
    // Listeners whose next read waits for a running callback to finish.
    let mut udp_paused: BTreeMap<u16, Rc<P::Udp>> = BTreeMap::new();
    let mut stopped = core::pin::pin!(stopped);
    registry.changed.set(true);

    loop {
        if registry.changed.replace(false) {
            for port in registry.tcp_ports() {
                if tcp_bound.insert(port) {
                    let listener = Rc::new(stack.bind_tcp(port).await?);
                    pending.push(Box::pin(async move {
                        let result = P::accept(&listener).await;
                        Event::Accepted(port, listener, result)
                    }));
                }
            }
            for port in registry.udp_ports() {
                if udp_bound.insert(port) {
                    let listener = Rc::new(stack.bind_udp(port).await?);
                    let counted = Rc::downgrade(&listener);
                    registry.udp_drops.borrow_mut().insert(
                        port,
                        Rc::new(move || counted.upgrade().map_or(0, |l| P::dropped(&l))),
                    );
                    pending.push(Box::pin(async move {
                        let result = P::recv(&listener).await;
                        Event::Received(port, listener, result)
                    }));
                }
            }
        }
        let event = poll_fn(|cx| {
            if stopped.as_mut().poll(cx).is_ready() {
                return Poll::Ready(None);
            }
            if registry.changed.get() {
                return Poll::Ready(Some(None));
            }
            *registry.waker.borrow_mut() = Some(cx.waker().clone());
            match pending.poll_next_unpin(cx) {
                Poll::Ready(Some(event)) => Poll::Ready(Some(Some(event))),
                _ => Poll::Pending,
            }
        })
        .await;
        let event = match event {
            None => return Ok(()),
            Some(None) => continue,
            Some(Some(event)) => event,
        };
        match event {
            Event::Accepted(port, listener, result) => match result {
                Ok(flow) => {
                    if let Some(callback) = registry.tcp_callback(port) {
                        let job = callback(flow);
                        pending.push(Box::pin(async move {
                            job.await;
                            Event::TcpDone
                        }));
                    }
                    pending.push(Box::pin(async move {
                        let result = P::accept(&listener).await;
                        Event::Accepted(port, listener, result)
                    }));
                }
                Err(TcpError::Disconnected) => return Ok(()),
                // A connection that failed before it was taken: keep accepting.
                Err(_) => pending.push(Box::pin(async move {
                    let result = P::accept(&listener).await;
                    Event::Accepted(port, listener, result)
                })),
            },
            Event::Received(port, listener, result) => {
                match result {
                    Ok(datagram) => {
                        if let Some(callback) = registry.udp_callback(port) {
                            let job = callback(datagram);
                            *udp_running.entry(port).or_default() += 1;
                            pending.push(Box::pin(async move {
                                job.await;
                                Event::UdpDone(port)
                            }));
                        }
                    }
                    Err(UdpError::Disconnected) => return Ok(()),
                    Err(_) => {}
                }
                if udp_running.get(&port).copied().unwrap_or(0) < UDP_CALLBACKS_IN_FLIGHT {
                    pending.push(Box::pin(async move {
                        let result = P::recv(&listener).await;
                        Event::Received(port, listener, result)
                    }));
                } else {
                    udp_paused.insert(port, listener);
                }
            }
            Event::UdpDone(port) => {
                let running = udp_running.entry(port).or_default();
                *running = running.saturating_sub(1);
                if let Some(listener) = udp_paused.remove(&port) {
                    pending.push(Box::pin(async move {
                        let result = P::recv(&listener).await;
                        Event::Received(port, listener, result)
                    }));
                }
            }
            Event::TcpDone => {}
        }
    }
}
