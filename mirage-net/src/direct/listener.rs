//! The direct stack's bound ports.

use super::flow::DirectFlow;
use super::state::{Backlog, Shared};
use bytes::Bytes;
use mirage_types::{TcpError, TcpListener, UdpDatagram, UdpError, UdpListener, async_trait};
use smoltcp::iface::SocketHandle;
use smoltcp::socket::udp;
use smoltcp::wire::IpAddress;
use std::future::poll_fn;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::rc::Rc;
use std::task::Poll;

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
            let mut ready = std::pin::pin!(ready);
            ready.as_mut().enable();
            if let Some(flow) = self.backlog.flows.borrow_mut().pop_front() {
                return Ok(flow);
            }
            if self.shared.disconnected.get() {
                return Err(TcpError::Disconnected);
            }
            tokio::select! {
                () = ready => {}
                () = self.shared.stopped() => {}
            }
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
        self.shared.wake.notify_one();
    }
}

/// A bound UDP port of a [`super::DirectStack`]: its smoltcp socket's buffer is the bounded
/// queue. Dropping it closes the port.
pub struct DirectUdpListener {
    shared: Rc<Shared>,
    port: u16,
    handle: SocketHandle,
}

impl DirectUdpListener {
    pub(crate) fn new(shared: Rc<Shared>, port: u16, handle: SocketHandle) -> Self {
        DirectUdpListener {
            shared,
            port,
            handle,
        }
    }
}

#[async_trait(?Send)]
impl UdpListener for DirectUdpListener {
    async fn recv(&self) -> Result<UdpDatagram, UdpError> {
        let received = poll_fn(|cx| {
            if self.shared.disconnected.get() {
                return Poll::Ready(Err(UdpError::Disconnected));
            }
            let mut state = self.shared.state.borrow_mut();
            let local = state.address().unwrap_or(Ipv4Addr::UNSPECIFIED);
            let socket = state.sockets.get_mut::<udp::Socket>(self.handle);
            match socket.recv() {
                Ok((data, meta)) => {
                    let IpAddress::Ipv4(src) = meta.endpoint.addr;
                    let dst = match meta.local_address {
                        Some(IpAddress::Ipv4(address)) => address,
                        None => local,
                    };
                    Poll::Ready(Ok(UdpDatagram {
                        src,
                        src_port: meta.endpoint.port,
                        dst,
                        dst_port: self.port,
                        data: Bytes::copy_from_slice(data),
                    }))
                }
                Err(_) => {
                    socket.register_recv_waker(cx.waker());
                    Poll::Pending
                }
            }
        });
        tokio::select! {
            received = received => received,
            () = self.shared.stopped() => Err(UdpError::Disconnected),
        }
    }

    fn local_addr(&self) -> SocketAddrV4 {
        local_addr(&self.shared, self.port)
    }
}

impl Drop for DirectUdpListener {
    fn drop(&mut self) {
        if let Ok(mut state) = self.shared.state.try_borrow_mut() {
            state.unbind_udp(self.port);
        }
    }
}

impl std::fmt::Debug for DirectTcpListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DirectTcpListener")
            .field("port", &self.port)
            .finish()
    }
}

impl std::fmt::Debug for DirectUdpListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DirectUdpListener")
            .field("port", &self.port)
            .finish()
    }
}
