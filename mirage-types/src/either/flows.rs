//! `Either` over flows, consoles and channels.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

use super::{Either, dispatch};
use crate::{Channel, ChannelResult, Console, ConsoleError, Flow, Read, TcpError, TcpFlow};
use async_trait::async_trait;
use bytes::Bytes;
use core::net::SocketAddrV4;

/// Both sides must share one error type, so that `Either` of two consoles is a console and
/// `Either` of two TCP flows is a TCP flow.
#[async_trait(?Send)]
impl<A: Flow, B: Flow<Error = A::Error>> Flow for Either<A, B> {
    type Error = A::Error;

    async fn read(&self) -> Result<Read, Self::Error> {
        dispatch!(self, f => f.read().await)
    }

    async fn write(&self, buf: &[u8]) -> Result<(), Self::Error> {
        dispatch!(self, f => f.write(buf).await)
    }

    async fn writev(&self, bufs: &[&[u8]]) -> Result<(), Self::Error> {
        dispatch!(self, f => f.writev(bufs).await)
    }

    fn poll_write_now(
        &self,
        cx: &mut core::task::Context<'_>,
        bufs: &[&[u8]],
    ) -> Option<core::task::Poll<Result<usize, Self::Error>>> {
        dispatch!(self, f => f.poll_write_now(cx, bufs))
    }

    fn poll_read_now(
        &self,
        cx: &mut core::task::Context<'_>,
    ) -> Option<core::task::Poll<Result<crate::Read, Self::Error>>> {
        dispatch!(self, f => f.poll_read_now(cx))
    }

    async fn close(&self) -> Result<(), Self::Error> {
        dispatch!(self, f => f.close().await)
    }
}

#[async_trait(?Send)]
impl<A: Console, B: Console> Console for Either<A, B> {
    fn log(&self, line: &str) {
        dispatch!(self, c => c.log(line))
    }

    async fn log_s(&self, line: &str) -> Result<(), ConsoleError> {
        dispatch!(self, c => c.log_s(line).await)
    }
}

#[async_trait(?Send)]
impl<A: TcpFlow, B: TcpFlow> TcpFlow for Either<A, B> {
    fn get_dest(&self) -> SocketAddrV4 {
        dispatch!(self, f => f.get_dest())
    }

    fn peer(&self) -> core::net::SocketAddr {
        dispatch!(self, f => f.peer())
    }

    async fn write_nodelay(&self, buf: &[u8]) -> Result<(), TcpError> {
        dispatch!(self, f => f.write_nodelay(buf).await)
    }

    async fn writev_nodelay(&self, bufs: &[&[u8]]) -> Result<(), TcpError> {
        dispatch!(self, f => f.writev_nodelay(bufs).await)
    }

    fn set_nodelay(&self, nodelay: bool) -> Result<(), TcpError> {
        dispatch!(self, f => f.set_nodelay(nodelay))
    }
}

#[async_trait(?Send)]
impl<A, B> Channel for Either<A, B>
where
    A: Channel,
    B: Channel,
    B::Flow: Flow<Error = <A::Flow as Flow>::Error>,
{
    type Flow = Either<A::Flow, B::Flow>;

    async fn read_char(&self) -> ChannelResult<Self, Option<u8>> {
        dispatch!(self, c => c.read_char().await)
    }

    async fn read_until(&self, delimiter: u8) -> ChannelResult<Self, (bool, Bytes)> {
        dispatch!(self, c => c.read_until(delimiter).await)
    }

    async fn read_some(&self, max: Option<usize>) -> ChannelResult<Self, Read> {
        dispatch!(self, c => c.read_some(max).await)
    }

    async fn read_line(&self) -> ChannelResult<Self, Option<Bytes>> {
        dispatch!(self, c => c.read_line().await)
    }

    fn write_char(&self, byte: u8) {
        dispatch!(self, c => c.write_char(byte))
    }

    fn write_string(&self, text: &str) {
        dispatch!(self, c => c.write_string(text))
    }

    fn write_buffer(&self, bytes: &[u8]) {
        dispatch!(self, c => c.write_buffer(bytes))
    }

    fn write_line(&self, line: &[u8]) {
        dispatch!(self, c => c.write_line(line))
    }

    async fn flush(&self) -> ChannelResult<Self, ()> {
        dispatch!(self, c => c.flush().await)
    }

    async fn close(&self) -> ChannelResult<Self, ()> {
        dispatch!(self, c => c.close().await)
    }
}
