//! The direct stack's bound ports.

use super::flow::DirectFlow;
use super::state::{Backlog, Shared, UdpQueue};
#[allow(unused_imports)]
use crate::alloc_prelude::*;
use alloc::rc::Rc;
use core::net::{Ipv4Addr, SocketAddrV4};
use core::pin::pin;
use futures::future::select;
use mirage_types::{TcpError, TcpListener, UdpDatagram, UdpError, UdpListener, async_trait};

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

#[async_trait(?Send)]
impl TcpListener for DirectTcpListener {
    type Flow = DirectFlow;

    async fn accept(&self) -> Result<DirectFlow, TcpError> {
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

    fn local_addr(&self) -> SocketAddrV4 {
        local_addr(&self.shared, self.port)
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

    async fn send_to(&self, to: SocketAddrV4, data: &[u8]) -> Result<(), UdpError> {
        use mirage_types::Udpv4;
        super::views::DirectUdp::new(self.shared.clone())
            .write(Some(self.port), *to.ip(), to.port(), data)
            .await
    }

    fn local_addr(&self) -> SocketAddrV4 {
        local_addr(&self.shared, self.port)
    }

    fn dropped(&self) -> u64 {
        self.queue.dropped.get()
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
