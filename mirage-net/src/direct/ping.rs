//! ICMP echo from the direct stack, over IPv4 and IPv6: what `ping` sends and waits for.

use super::state::Shared;
#[allow(unused_imports)]
use crate::alloc_prelude::*;
use alloc::rc::Rc;
use core::future::poll_fn;
use core::net::IpAddr;
use core::task::Poll;
use core::time::Duration;
use mirage_types::IcmpError;
use smoltcp::iface::SocketHandle;
use smoltcp::socket::icmp;
use smoltcp::wire::IpAddress;

/// Echo requests and their replies, of either family, from one ICMP socket of the stack
/// (from [`super::DirectStack::ping`]); other pingers' replies, and replies to requests that
/// timed out, are told apart by identifier and sequence number and left aside. Dropping it
/// frees the socket.
pub struct DirectPing {
    shared: Rc<Shared>,
    handle: SocketHandle,
    ident: u16,
}

/// Echo replies (or other ICMP messages to this identifier) waiting at most.
const QUEUED: usize = 16;
/// The longest payload sent: an IPv4 packet's less the ICMP header, as `ping -s` allows.
pub const MAX_PING_PAYLOAD: usize = 65_507;

impl DirectPing {
    pub(crate) fn new(shared: Rc<Shared>) -> Self {
        let ident = (shared.platform.random_u64() & 0xffff) as u16;
        let buffer = || {
            icmp::PacketBuffer::new(
                vec![icmp::PacketMetadata::EMPTY; QUEUED],
                vec![0; QUEUED * 1024],
            )
        };
        let mut socket = icmp::Socket::new(buffer(), buffer());
        // Bound to a fresh identifier: it cannot be in use.
        let _ = socket.bind(icmp::Endpoint::Ident(ident));
        let handle = shared.state.borrow_mut().sockets.add(socket);
        DirectPing {
            shared,
            handle,
            ident,
        }
    }

    /// The identifier its requests carry.
    pub fn ident(&self) -> u16 {
        self.ident
    }

    /// Sends an echo request with `seq` and `payload` to `dst` and waits up to `wait` for its
    /// reply: the round-trip time, or `None` if none came in time. An IPv6 destination
    /// needs [`super::DirectStack::enable_ipv6`]; a request must fit one packet over IPv6
    /// (smoltcp does not fragment it), while over IPv4 it is fragmented.
    pub async fn echo(
        &self,
        dst: IpAddr,
        seq: u16,
        payload: &[u8],
        wait: Duration,
    ) -> Result<Option<Duration>, IcmpError> {
        let (kind, max) = match dst {
            IpAddr::V4(_) => (8, MAX_PING_PAYLOAD),
            IpAddr::V6(_) => {
                let state = self.shared.state.borrow();
                if !state.has_ipv6() {
                    return Err(IcmpError::Unknown(format!(
                        "cannot ping {dst}: this stack has no IPv6"
                    )));
                }
                (128, state.queues.mtu.saturating_sub(40 + 8))
            }
        };
        if payload.len() > max.min(QUEUED * 1024 - 8) {
            return Err(IcmpError::Unknown(format!(
                "a payload of {} bytes does not fit one echo request to {dst}",
                payload.len()
            )));
        }
        // Type, code, checksum (smoltcp fills it in), identifier, sequence number, payload.
        let mut request = Vec::with_capacity(8 + payload.len());
        request.extend_from_slice(&[kind, 0, 0, 0]);
        request.extend_from_slice(&self.ident.to_be_bytes());
        request.extend_from_slice(&seq.to_be_bytes());
        request.extend_from_slice(payload);
        let sent = self.shared.platform.now();
        self.send(dst, &request).await?;
        let reply = poll_fn(|cx| {
            if self.shared.disconnected.get() {
                return Poll::Ready(Err(IcmpError::Disconnected));
            }
            let mut state = self.shared.state.borrow_mut();
            let socket = state.sockets.get_mut::<icmp::Socket>(self.handle);
            while let Ok((message, from)) = socket.recv() {
                if is_reply(message, kind, seq) && IpAddr::from(from) == dst {
                    return Poll::Ready(Ok(()));
                }
            }
            socket.register_recv_waker(cx.waker());
            Poll::Pending
        });
        match self.shared.platform.timeout(wait, reply).await {
            Some(Ok(())) => Ok(Some(self.shared.platform.now().saturating_sub(sent))),
            Some(Err(error)) => Err(error),
            None => Ok(None),
        }
    }

    /// Queues `message` for `dst`, waiting while the socket's buffer is full.
    async fn send(&self, dst: IpAddr, message: &[u8]) -> Result<(), IcmpError> {
        poll_fn(|cx| {
            if self.shared.disconnected.get() {
                return Poll::Ready(Err(IcmpError::Disconnected));
            }
            let mut state = self.shared.state.borrow_mut();
            let socket = state.sockets.get_mut::<icmp::Socket>(self.handle);
            match socket.send_slice(message, IpAddress::from(dst)) {
                Ok(()) => {
                    self.shared.wake.notify();
                    Poll::Ready(Ok(()))
                }
                Err(icmp::SendError::BufferFull) => {
                    socket.register_send_waker(cx.waker());
                    Poll::Pending
                }
                Err(error) => Poll::Ready(Err(IcmpError::Unknown(error.to_string()))),
            }
        })
        .await
    }
}

/// Whether `message` is the echo reply to a request of type `request` (8 or 128) with
/// sequence number `seq` (the identifier is the socket's, which smoltcp checked).
fn is_reply(message: &[u8], request: u8, seq: u16) -> bool {
    let reply = if request == 8 { 0 } else { 129 };
    message.len() >= 8 && message[0] == reply && message[6..8] == seq.to_be_bytes()
}

impl Drop for DirectPing {
    fn drop(&mut self) {
        if let Ok(mut state) = self.shared.state.try_borrow_mut() {
            state.sockets.remove(self.handle);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_are_matched_by_type_and_sequence() {
        assert!(is_reply(&[0, 0, 0, 0, 1, 2, 0, 7], 8, 7));
        assert!(is_reply(&[129, 0, 0, 0, 1, 2, 0, 7, 9], 128, 7));
        assert!(!is_reply(&[129, 0, 0, 0, 1, 2, 0, 7], 8, 7));
        assert!(!is_reply(&[0, 0, 0, 0, 1, 2, 0, 8], 8, 7));
        assert!(!is_reply(&[0, 0, 0], 8, 0));
    }
}
