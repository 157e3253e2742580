//! A TCP connection of the direct stack.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

use super::state::Shared;
use crate::stall::Stall;
use alloc::rc::Rc;
use bytes::Bytes;
use core::cell::Cell;
use core::future::poll_fn;
use core::net::{SocketAddr, SocketAddrV4};
use core::task::Poll;
use mirage_types::{Flow, Read, TcpError, TcpFlow, async_trait};
use smoltcp::iface::SocketHandle;
use smoltcp::socket::tcp;

/// A TCP connection over the direct stack (a smoltcp socket).
///
/// Dropping it closes the connection gracefully; the socket is freed once closed.
pub struct DirectFlow {
    shared: Rc<Shared>,
    handle: SocketHandle,
    /// This end's port, and the peer's end.
    local_port: u16,
    peer: SocketAddr,
    /// This side called `close`.
    closed: Cell<bool>,
    /// The peer was seen closing its side in order (a FIN), not vanishing.
    peer_finished: Cell<bool>,
    /// A read's wait for data, and a write's for room, each bounded by the stack's timeout.
    read_stall: Stall,
    write_stall: Stall,
    /// Nagle's algorithm is off ([`TcpFlow::set_nodelay`]).
    nodelay: Cell<bool>,
}

impl DirectFlow {
    pub(crate) fn new(
        shared: Rc<Shared>,
        handle: SocketHandle,
        local_port: u16,
        peer: SocketAddr,
    ) -> Self {
        DirectFlow {
            shared,
            handle,
            local_port,
            peer,
            closed: Cell::new(false),
            peer_finished: Cell::new(false),
            read_stall: Stall::default(),
            write_stall: Stall::default(),
            nodelay: Cell::new(false),
        }
    }

    /// Runs `f` on the socket.
    fn with<R>(&self, f: impl FnOnce(&mut tcp::Socket<'static>) -> R) -> R {
        let mut state = self.shared.state.borrow_mut();
        f(state.sockets.get_mut::<tcp::Socket>(self.handle))
    }

    /// The error for a socket that closed without both sides finishing in order: the stack
    /// was disconnected, the peer reset the connection, or else smoltcp gave up on a peer
    /// that stopped answering (the stack's TCP timeout), as the socket stack reports it.
    fn ended(&self) -> TcpError {
        if self.shared.disconnected.get() {
            TcpError::Disconnected
        } else if self
            .shared
            .state
            .borrow()
            .queues
            .resets
            .seen(self.local_port, self.peer)
        {
            TcpError::Reset
        } else {
            TcpError::Timeout
        }
    }

    /// The next read's answer now, or `Pending` with the task of `cx` registered to hear of
    /// data, the end of the stream or an error.
    fn poll_read(&self, cx: &mut core::task::Context<'_>) -> Poll<Result<Read, TcpError>> {
        let outcome = self.with(|socket| {
            if socket.can_recv() {
                if socket.recv_queue() * 2 >= socket.recv_capacity() {
                    // Reading may open the window enough for smoltcp to tell the peer (it
                    // does once the window has doubled): let the driver poll. While the
                    // buffer is under half full the peer still has half of it to send
                    // into, and the acknowledgement of its next segment carries the
                    // window; waking the driver for every read would cost a poll each.
                    self.shared.wake.notify();
                }
                let data = socket.recv(|buf| (buf.len(), Bytes::copy_from_slice(buf)));
                return Some(Ok(Read::Data(data.unwrap_or_default())));
            }
            match socket.state() {
                tcp::State::CloseWait
                | tcp::State::LastAck
                | tcp::State::Closing
                | tcp::State::TimeWait => {
                    self.peer_finished.set(true);
                    Some(Ok(Read::Eof))
                }
                tcp::State::Closed if self.peer_finished.get() || self.closed.get() => {
                    Some(Ok(Read::Eof))
                }
                tcp::State::Closed => Some(Err(())),
                _ => {
                    socket.register_recv_waker(cx.waker());
                    None
                }
            }
        });
        match outcome {
            Some(Ok(read)) => {
                self.read_stall.progressed();
                Poll::Ready(Ok(read))
            }
            Some(Err(())) => Poll::Ready(Err(self.ended())),
            None if self
                .read_stall
                .waiting(&self.shared.platform, self.timeout(), cx) =>
            {
                self.read_stall.progressed();
                Poll::Ready(Err(TcpError::Timeout))
            }
            None => Poll::Pending,
        }
    }

    /// The stack's TCP timeout: how long a read or write may wait without progress.
    fn timeout(&self) -> core::time::Duration {
        self.shared.state.borrow().tcp_timeout
    }

    /// A write waits for room: `true` once it has waited the stack's timeout, when the
    /// connection is reset (as the socket stack's kernel gives up on a peer whose window
    /// stays shut) and the write fails.
    fn write_stalled(&self, cx: &mut core::task::Context<'_>) -> bool {
        if !self
            .write_stall
            .waiting(&self.shared.platform, self.timeout(), cx)
        {
            return false;
        }
        self.write_stall.progressed();
        self.with(|socket| socket.abort());
        self.shared.wake.notify();
        true
    }

    async fn send_all(&self, data: &[u8]) -> Result<(), TcpError> {
        if self.closed.get() {
            return Err(TcpError::Closed);
        }
        let mut sent = 0;
        poll_fn(|cx| {
            let outcome = self.with(|socket| {
                while sent < data.len() {
                    if !socket.may_send() {
                        return Some(Err(()));
                    }
                    match socket.send_slice(&data[sent..]) {
                        Ok(0) | Err(_) => {
                            socket.register_send_waker(cx.waker());
                            return None;
                        }
                        Ok(n) => sent += n,
                    }
                }
                Some(Ok(()))
            });
            self.shared.wake.notify();
            match outcome {
                Some(Ok(())) => {
                    self.write_stall.progressed();
                    Poll::Ready(Ok(()))
                }
                Some(Err(())) => Poll::Ready(Err(self.ended())),
                None if self.write_stalled(cx) => Poll::Ready(Err(TcpError::Timeout)),
                None => Poll::Pending,
            }
        })
        .await
    }
}

impl Drop for DirectFlow {
    /// Closes the connection gracefully; the driver frees the socket once it is closed.
    fn drop(&mut self) {
        match self.shared.state.try_borrow_mut() {
            Ok(mut state) => {
                state.sockets.get_mut::<tcp::Socket>(self.handle).close();
                state.orphan(self.handle);
            }
            // Dropped by the driver itself, mid-poll: it closes the socket next time round.
            Err(_) => self.shared.dropped.borrow_mut().push(self.handle),
        }
        self.shared.wake.notify();
    }
}

#[async_trait(?Send)]
impl Flow for DirectFlow {
    type Error = TcpError;

    /// Fails with [`TcpError::Timeout`] when the peer sent nothing for the stack's TCP
    /// timeout.
    async fn read(&self) -> Result<Read, TcpError> {
        // A wait begins with each call (an earlier read may have been dropped mid-wait).
        self.read_stall.progressed();
        poll_fn(|cx| self.poll_read(cx)).await
    }

    /// Reads straight from the socket: no future per read.
    fn poll_read_now(
        &self,
        cx: &mut core::task::Context<'_>,
    ) -> Option<Poll<Result<Read, TcpError>>> {
        Some(self.poll_read(cx))
    }

    /// Fails with [`TcpError::Timeout`], resetting the connection, when the peer took
    /// nothing for the stack's TCP timeout (its window stayed shut).
    async fn write(&self, buf: &[u8]) -> Result<(), TcpError> {
        self.write_stall.progressed();
        self.send_all(buf).await
    }

    /// Copies what the socket's send buffer takes now straight from `bufs`.
    fn poll_write_now(
        &self,
        cx: &mut core::task::Context<'_>,
        bufs: &[&[u8]],
    ) -> Option<Poll<Result<usize, TcpError>>> {
        if self.closed.get() {
            return Some(Poll::Ready(Err(TcpError::Closed)));
        }
        let outcome = self.with(|socket| {
            let mut sent = 0;
            for buf in bufs.iter().filter(|buf| !buf.is_empty()) {
                if !socket.may_send() {
                    return if sent > 0 { Ok(sent) } else { Err(()) };
                }
                match socket.send_slice(buf) {
                    Ok(n) => {
                        sent += n;
                        if n < buf.len() {
                            break;
                        }
                    }
                    Err(_) => break,
                }
            }
            if sent == 0 {
                socket.register_send_waker(cx.waker());
            }
            Ok(sent)
        });
        self.shared.wake.notify();
        Some(match outcome {
            Ok(0) if bufs.iter().any(|buf| !buf.is_empty()) => {
                if self.write_stalled(cx) {
                    Poll::Ready(Err(TcpError::Timeout))
                } else {
                    Poll::Pending
                }
            }
            Ok(sent) => {
                self.write_stall.progressed();
                Poll::Ready(Ok(sent))
            }
            Err(()) => Poll::Ready(Err(self.ended())),
        })
    }

    /// Half-closes: sends a FIN once everything written has gone; the peer can still send.
    async fn close(&self) -> Result<(), TcpError> {
        if !self.closed.replace(true) {
            self.with(|socket| socket.close());
            self.shared.wake.notify();
        }
        Ok(())
    }
}

#[async_trait(?Send)]
impl TcpFlow for DirectFlow {
    fn get_dest(&self) -> SocketAddrV4 {
        crate::addr::ipv4_view(self.peer)
    }

    fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// Sends `buf` without Nagle's delay and waits until the peer has acknowledged all of it.
    async fn write_nodelay(&self, buf: &[u8]) -> Result<(), TcpError> {
        self.with(|socket| socket.set_nagle_enabled(false));
        let result = self.send_all(buf).await;
        let acknowledged = poll_fn(|cx| {
            let pending = self.with(|socket| {
                if socket.send_queue() == 0 || !socket.may_send() {
                    false
                } else {
                    socket.register_send_waker(cx.waker());
                    true
                }
            });
            if pending {
                Poll::Pending
            } else {
                Poll::Ready(())
            }
        });
        if result.is_ok() {
            acknowledged.await;
        }
        let nagle = !self.nodelay.get();
        self.with(|socket| socket.set_nagle_enabled(nagle));
        result
    }

    /// Nagle's algorithm off (`true`) or on in the smoltcp socket.
    fn set_nodelay(&self, nodelay: bool) -> Result<(), TcpError> {
        self.nodelay.set(nodelay);
        self.with(|socket| socket.set_nagle_enabled(!nodelay));
        Ok(())
    }
}

impl core::fmt::Debug for DirectFlow {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DirectFlow")
            .field("peer", &self.peer)
            .field("closed", &self.closed.get())
            .finish()
    }
}
