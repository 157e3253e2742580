//! The direct stack's bound ports.

use super::flow::DirectFlow;
use super::state::{Backlog, Shared, UdpQueue};
#[allow(unused_imports)]
use crate::alloc_prelude::*;
use alloc::rc::Rc;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4};
use core::pin::pin;
use futures::future::select;
use mirage_types::{
    TcpError, TcpListener, UdpDatagram, UdpDatagramV4V6, UdpError, UdpListener, async_trait,
};

/// A bound TCP port of a [`super::DirectStack`]. Dropping it closes the port.
pub struct DirectTcpListener {
    shared: Rc<Shared>,
    port: u16,
    backlog: Rc<Backlog>,
}

impl DirectTcpListener {
    pub(crate) fn new(shared: Rc<Shared>, port: u16, backlog: Rc<Backlog>) -> Self {
        DirectTcpListener {
            shared,
            port,
            backlog,
        }
    }
}

fn local_addr(shared: &Shared, port: u16) -> SocketAddrV4 {
    let address = shared.state.borrow().address();
    SocketAddrV4::new(address.unwrap_or(Ipv4Addr::UNSPECIFIED), port)
}

/// A dual port's address: the IPv4 one if the stack has one, else its first IPv6 one
/// beyond link-local (or `::`).
pub(crate) fn local_addr_v4v6(shared: &Shared, port: u16) -> SocketAddr {
    let state = shared.state.borrow();
    let address = match state.address() {
        Some(v4) => IpAddr::V4(v4),
        None => IpAddr::V6(state.global_ipv6().unwrap_or(Ipv6Addr::UNSPECIFIED)),
    };
    SocketAddr::new(address, port)
}

#[async_trait(?Send)]
impl TcpListener for DirectTcpListener {
    type Flow = DirectFlow;

    async fn accept(&self) -> Result<DirectFlow, TcpError> {
        self.accept_either().await
    }

    fn local_addr(&self) -> SocketAddrV4 {
        local_addr(&self.shared, self.port)
    }
}

impl DirectTcpListener {
    /// The next connection (of the families the port was bound for).
    pub(crate) async fn accept_either(&self) -> Result<DirectFlow, TcpError> {
        loop {
            let ready = self.backlog.ready.notified();
            if let Some(flow) = self.backlog.flows.borrow_mut().pop_front() {
                return Ok(flow);
            }
            if self.shared.disconnected.get() {
                return Err(TcpError::Disconnected);
            }
            select(ready, pin!(self.shared.stopped())).await;
        }
    }

    /// The port it is bound to.
    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// The stack it is bound on.
    pub(crate) fn shared(&self) -> &Rc<Shared> {
        &self.shared
    }
}

impl Drop for DirectTcpListener {
    fn drop(&mut self) {
        // Flows still waiting close as they drop (after the state is released).
        let waiting: Vec<DirectFlow> = self.backlog.flows.borrow_mut().drain(..).collect();
        if let Ok(mut state) = self.shared.state.try_borrow_mut() {
            state.unbind_tcp(self.port);
        }
        drop(waiting);
        self.shared.wake.notify();
    }
}

/// A bound UDP port of a [`super::DirectStack`]: datagrams wait in a queue of 256 (1 MiB at
/// most); beyond it they are dropped and counted. Dropping it closes the port.
pub struct DirectUdpListener {
    shared: Rc<Shared>,
    port: u16,
    queue: Rc<UdpQueue>,
}

impl DirectUdpListener {
    pub(crate) fn new(shared: Rc<Shared>, port: u16, queue: Rc<UdpQueue>) -> Self {
        DirectUdpListener {
            shared,
            port,
            queue,
        }
    }
}

#[async_trait(?Send)]
impl UdpListener for DirectUdpListener {
    async fn recv(&self) -> Result<UdpDatagram, UdpError> {
        loop {
            // A V1 port's queue takes IPv4 datagrams only: nothing else arrives.
            if let Ok(datagram) = UdpDatagram::try_from(self.recv_either().await?) {
                return Ok(datagram);
            }
        }
    }

    async fn send_to(&self, to: SocketAddrV4, data: &[u8]) -> Result<(), UdpError> {
        self.send_either(to.into(), data).await
    }

    fn local_addr(&self) -> SocketAddrV4 {
        local_addr(&self.shared, self.port)
    }

    fn dropped(&self) -> u64 {
        self.queue.dropped.get()
    }
}

impl DirectUdpListener {
    /// Sends one datagram to `to` from this port.
    pub(crate) async fn send_either(&self, to: SocketAddr, data: &[u8]) -> Result<(), UdpError> {
        super::views::send_udp(&self.shared, Some(self.port), to, data).await
    }

    /// The port it is bound to.
    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// The stack it is bound on.
    pub(crate) fn shared(&self) -> &Rc<Shared> {
        &self.shared
    }

    /// The next datagram (of the families the port was bound for).
    pub(crate) async fn recv_either(&self) -> Result<UdpDatagramV4V6, UdpError> {
        loop {
            let ready = self.queue.ready.notified();
            if let Some(datagram) = self.queue.pop() {
                return Ok(datagram);
            }
            if self.shared.disconnected.get() {
                return Err(UdpError::Disconnected);
            }
            select(ready, pin!(self.shared.stopped())).await;
        }
    }
}

impl Drop for DirectUdpListener {
    fn drop(&mut self) {
        if let Ok(mut state) = self.shared.state.try_borrow_mut() {
            state.unbind_udp(self.port);
        }
    }
}

impl core::fmt::Debug for DirectTcpListener {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DirectTcpListener")
            .field("port", &self.port)
            .finish()
    }
}

impl core::fmt::Debug for DirectUdpListener {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DirectUdpListener")
            .field("port", &self.port)
            .finish()
    }
}
