//! A TCP connection of the socket stack.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

use crate::StackPlatform;
use crate::stall::Stall;
use bytes::BytesMut;
use mirage_types::{Flow, Read, TcpError, TcpFlow, async_trait};
use std::cell::{Cell, RefCell};
use std::io::{self, IoSlice};
use std::net::{SocketAddr, SocketAddrV4};
use std::os::fd::AsRawFd;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::Mutex;

/// Read into a fresh buffer of this size once the current one runs low.
const READ_BUFFER: usize = 64 * 1024;
const READ_LOW_WATER: usize = 4 * 1024;

/// A TCP connection over a host socket: V1's `TCPV4.flow` on the socket stack.
///
/// Reads and writes may run from different tasks at once; concurrent writes are serialised,
/// each sent whole. Dropping the flow closes the socket.
pub struct SocketFlow {
    stream: TcpStream,
    peer: SocketAddr,
    idle_timeout: Option<Duration>,
    /// For an accepted flow, the stack's count of open connections.
    counted: Option<Rc<Cell<usize>>>,
    read_buffer: RefCell<BytesMut>,
    /// A read's wait for the peer.
    idle: Stall,
    write_lock: Mutex<()>,
    closed: Cell<bool>,
    /// `TCP_NODELAY` as [`TcpFlow::set_nodelay`] last set it.
    nodelay: Cell<bool>,
}

impl SocketFlow {
    /// A flow over `stream`: keep-alives and the kernel's timeout for unacknowledged data
    /// set from `idle_timeout`, which also bounds how long a read waits.
    pub(crate) fn new(
        stream: TcpStream,
        peer: SocketAddr,
        idle_timeout: Option<Duration>,
        counted: Option<Rc<Cell<usize>>>,
    ) -> Self {
        if let Some(timeout) = idle_timeout {
            set_keepalive(&stream, timeout);
        }
        SocketFlow {
            stream,
            peer: crate::addr::canonical(peer),
            idle_timeout,
            counted,
            read_buffer: RefCell::new(BytesMut::new()),
            idle: Stall::default(),
            write_lock: Mutex::new(()),
            closed: Cell::new(false),
            nodelay: Cell::new(false),
        }
    }

    /// The local address of the connection (an IPv4 one as such, not IPv4-mapped).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.stream.local_addr().ok().map(crate::addr::canonical)
    }

    async fn write_all(&self, mut parts: &mut [IoSlice<'_>]) -> Result<(), TcpError> {
        if self.closed.get() {
            return Err(TcpError::Closed);
        }
        let _turn = self.write_lock.lock().await;
        while parts.iter().any(|part| !part.is_empty()) {
            self.stream.writable().await.map_err(tcp_error)?;
            match self.stream.try_write_vectored(parts) {
                Ok(written) => IoSlice::advance_slices(&mut parts, written),
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => continue,
                Err(error) => return Err(tcp_error(error)),
            }
        }
        Ok(())
    }
}

pub(crate) fn tcp_error(error: io::Error) -> TcpError {
    match error.kind() {
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::BrokenPipe
        | io::ErrorKind::ConnectionAborted => TcpError::Reset,
        io::ErrorKind::ConnectionRefused => TcpError::Refused,
        io::ErrorKind::TimedOut => TcpError::Timeout,
        _ => TcpError::Io(error.into()),
    }
}

#[async_trait(?Send)]
impl Flow for SocketFlow {
    type Error = TcpError;

    /// The next bytes the peer sent (up to 64 KiB), or [`Read::Eof`] once it closed its side.
    /// Fails with [`TcpError::Timeout`] when the peer sent nothing for the stack's idle
    /// timeout.
    async fn read(&self) -> Result<Read, TcpError> {
        // A wait begins with each call (an earlier read may have been dropped mid-wait).
        self.idle.progressed();
        std::future::poll_fn(|cx| self.poll_read(cx)).await
    }

    /// As [`Flow::read`], polled: the socket's readiness and, while waiting, the idle timer.
    fn poll_read_now(&self, cx: &mut Context<'_>) -> Option<Poll<Result<Read, TcpError>>> {
        Some(self.poll_read(cx))
    }

    async fn write(&self, buf: &[u8]) -> Result<(), TcpError> {
        self.write_all(&mut [IoSlice::new(buf)]).await
    }

    async fn writev(&self, bufs: &[&[u8]]) -> Result<(), TcpError> {
        let mut slices: Vec<IoSlice<'_>> = bufs.iter().map(|b| IoSlice::new(b)).collect();
        self.write_all(&mut slices).await
    }

    /// Writes what the socket takes now, straight from `bufs` (one `writev`); `None` while
    /// another write holds the connection.
    fn poll_write_now(
        &self,
        cx: &mut Context<'_>,
        bufs: &[&[u8]],
    ) -> Option<Poll<Result<usize, TcpError>>> {
        if self.closed.get() {
            return Some(Poll::Ready(Err(TcpError::Closed)));
        }
        let _turn = self.write_lock.try_lock().ok()?;
        // On the stack: this runs for every write; a partial write of the first 64 buffers
        // is a valid answer.
        let mut slices = [IoSlice::new(&[]); 64];
        let count = bufs.len().min(slices.len());
        for (slice, buf) in slices.iter_mut().zip(bufs) {
            *slice = IoSlice::new(buf);
        }
        let slices = &slices[..count];
        loop {
            match self.stream.poll_write_ready(cx) {
                Poll::Pending => return Some(Poll::Pending),
                Poll::Ready(Err(error)) => return Some(Poll::Ready(Err(tcp_error(error)))),
                Poll::Ready(Ok(())) => {}
            }
            match self.stream.try_write_vectored(slices) {
                Ok(written) => return Some(Poll::Ready(Ok(written))),
                // Readiness was stale: polling again registers the waker.
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => continue,
                Err(error) => return Some(Poll::Ready(Err(tcp_error(error)))),
            }
        }
    }

    /// Half-closes the connection (`shutdown(SHUT_WR)`): the peer reads the end of the
    /// stream, and can still send to us.
    async fn close(&self) -> Result<(), TcpError> {
        if self.closed.replace(true) {
            return Ok(());
        }
        let _turn = self.write_lock.lock().await;
        // SAFETY: shutdown on a descriptor this flow owns.
        let rc = unsafe { libc::shutdown(self.stream.as_raw_fd(), libc::SHUT_WR) };
        let error = io::Error::last_os_error();
        if rc != 0 && error.raw_os_error() != Some(libc::ENOTCONN) {
            return Err(tcp_error(error));
        }
        Ok(())
    }
}

impl SocketFlow {
    fn poll_read(&self, cx: &mut Context<'_>) -> Poll<Result<Read, TcpError>> {
        loop {
            match self.stream.poll_read_ready(cx) {
                Poll::Pending => return self.poll_idle(cx),
                Poll::Ready(Err(error)) => return self.done(Err(tcp_error(error))),
                Poll::Ready(Ok(())) => {}
            }
            let mut buffer = self.read_buffer.borrow_mut();
            if buffer.capacity() < READ_LOW_WATER {
                *buffer = BytesMut::with_capacity(READ_BUFFER);
            }
            match self.stream.try_read_buf(&mut *buffer) {
                Ok(0) => return self.done(Ok(Read::Eof)),
                Ok(_) => {
                    let chunk = buffer.split().freeze();
                    return self.done(Ok(Read::Data(chunk)));
                }
                // Readiness was stale: polling again registers the waker.
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => continue,
                Err(error) => return self.done(Err(tcp_error(error))),
            }
        }
    }

    /// A read's answer: the wait is over.
    fn done(&self, outcome: Result<Read, TcpError>) -> Poll<Result<Read, TcpError>> {
        self.idle.progressed();
        Poll::Ready(outcome)
    }

    /// Nothing to read: `Pending`, or the timeout once the peer has been silent for the idle
    /// timeout since this wait began.
    fn poll_idle(&self, cx: &mut Context<'_>) -> Poll<Result<Read, TcpError>> {
        match self.idle_timeout {
            Some(timeout) if self.idle.waiting(&StackPlatform::tokio(), timeout, cx) => {
                self.done(Err(TcpError::Timeout))
            }
            _ => Poll::Pending,
        }
    }
}

impl Drop for SocketFlow {
    fn drop(&mut self) {
        if let Some(open) = &self.counted {
            open.set(open.get().saturating_sub(1));
        }
    }
}

/// Keep-alives after a quarter of `timeout` of silence, three probes a quarter apart, and
/// unacknowledged data given up after `timeout` (`TCP_USER_TIMEOUT`). Best effort: a kernel
/// that refuses an option leaves its default.
fn set_keepalive(stream: &TcpStream, timeout: Duration) {
    let quarter = (timeout.as_secs() / 4).clamp(1, i32::MAX as u64) as libc::c_int;
    let millis = timeout.as_millis().clamp(1, u32::MAX as u128) as libc::c_uint;
    let fd = stream.as_raw_fd();
    let set = |level: libc::c_int, name: libc::c_int, value: libc::c_int| {
        // SAFETY: an int option on a descriptor the stream owns.
        unsafe {
            libc::setsockopt(
                fd,
                level,
                name,
                (&value as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
    };
    set(libc::SOL_SOCKET, libc::SO_KEEPALIVE, 1);
    set(libc::IPPROTO_TCP, libc::TCP_KEEPIDLE, quarter);
    set(libc::IPPROTO_TCP, libc::TCP_KEEPINTVL, quarter);
    set(libc::IPPROTO_TCP, libc::TCP_KEEPCNT, 3);
    set(
        libc::IPPROTO_TCP,
        libc::TCP_USER_TIMEOUT,
        millis as libc::c_int,
    );
}

#[async_trait(?Send)]
impl TcpFlow for SocketFlow {
    fn get_dest(&self) -> SocketAddrV4 {
        crate::addr::ipv4_view(self.peer)
    }

    fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// Sends `buf` at once, bypassing Nagle's algorithm for this write.
    async fn write_nodelay(&self, buf: &[u8]) -> Result<(), TcpError> {
        self.stream.set_nodelay(true).map_err(tcp_error)?;
        let result = self.write(buf).await;
        let _ = self.stream.set_nodelay(self.nodelay.get());
        result
    }

    /// `TCP_NODELAY` on the socket.
    fn set_nodelay(&self, nodelay: bool) -> Result<(), TcpError> {
        self.stream.set_nodelay(nodelay).map_err(tcp_error)?;
        self.nodelay.set(nodelay);
        Ok(())
    }
}

impl std::fmt::Debug for SocketFlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocketFlow")
            .field("peer", &self.peer)
            .field("closed", &self.closed.get())
            .finish()
    }
}
