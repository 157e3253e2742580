//! `FlowStream` (tokio's `AsyncRead`/`AsyncWrite` over any flow): vectored writes straight to
//! the transport (`Flow::poll_write_now`) and reads straight from it (`Flow::poll_read_now`),
//! and, for a flow without those paths, owned writes and reads; 8 MiB against a slow reader
//! (so writes wait for room) arrive intact on both stacks.

use bytes::Bytes;
use mirage_net::{Addressing, DirectStack, FlowStream, MemLink, SocketStack, StackConfig};
use mirage_types::{
    Flow, Ipv4Config, Read, StackFlow, StackV4, TcpError, TcpListener, Tcpv4, async_trait,
};
use sha2::{Digest, Sha256};
use std::io::IoSlice;
use std::net::Ipv4Addr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const TOTAL: usize = 8 * 1024 * 1024;

fn pattern() -> Vec<u8> {
    (0..TOTAL as u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect()
}

/// A flow with only the async methods: `FlowStream` falls back to owned writes.
struct AsyncOnly<F>(F);

#[async_trait(?Send)]
impl<F: Flow> Flow for AsyncOnly<F> {
    type Error = F::Error;
    async fn read(&self) -> Result<Read, F::Error> {
        self.0.read().await
    }
    async fn write(&self, buf: &[u8]) -> Result<(), F::Error> {
        self.0.write(buf).await
    }
    async fn close(&self) -> Result<(), F::Error> {
        self.0.close().await
    }
}

/// Writes the pattern through `stream` in vectored writes of three uneven slices.
async fn send<W: tokio::io::AsyncWrite + Unpin>(mut stream: W, data: &[u8]) {
    let mut at = 0;
    while at < data.len() {
        let a = (at + 1000).min(data.len());
        let b = (a + 70_000).min(data.len());
        let c = (b + 5).min(data.len());
        let slices = [
            IoSlice::new(&data[at..a]),
            IoSlice::new(&data[a..b]),
            IoSlice::new(&data[b..c]),
        ];
        let written = stream.write_vectored(&slices).await.unwrap();
        assert!(written > 0);
        at += written;
    }
    stream.shutdown().await.unwrap();
}

/// Reads `stream` to its end in reads of at most 64 KiB, pausing now and then so the sender
/// meets a full window.
async fn receive<R: tokio::io::AsyncRead + Unpin>(mut stream: R) -> Vec<u8> {
    let mut got = Vec::with_capacity(TOTAL);
    let mut buf = vec![0; 64 * 1024];
    let mut reads = 0u32;
    loop {
        let n = stream.read(&mut buf).await.unwrap();
        if n == 0 {
            return got;
        }
        got.extend_from_slice(&buf[..n]);
        reads += 1;
        if reads.is_multiple_of(16) {
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
    }
}

async fn check<S: StackV4 + 'static>(server: S, client: S, wrapped: bool)
where
    StackFlow<S>: Flow<Error = TcpError>,
{
    let data = Bytes::from(pattern());
    let listener = server.bind_tcpv4(0).await.unwrap();
    let mut address = listener.local_addr();
    if address.ip().is_unspecified() {
        address.set_ip(Ipv4Addr::LOCALHOST);
    }
    let sending = data.clone();
    let sender = tokio::task::spawn_local(async move {
        let flow = listener.accept().await.unwrap();
        if wrapped {
            send(FlowStream::new(AsyncOnly(flow)), &sending).await;
        } else {
            send(FlowStream::new(flow), &sending).await;
        }
    });
    let flow = client.tcpv4().create_connection(address).await.unwrap();
    let got = if wrapped {
        receive(FlowStream::new(AsyncOnly(flow))).await
    } else {
        receive(FlowStream::new(flow)).await
    };
    sender.await.unwrap();
    assert_eq!(got.len(), TOTAL);
    assert_eq!(Sha256::digest(&got), Sha256::digest(&data));
}

#[test]
fn vectored_writes_and_stream_reads_arrive_intact_on_the_socket_stack() {
    for wrapped in [false, true] {
        mirage_unix::run(async move {
            let stack =
                SocketStack::with_config(StackConfig::new().interfaces(vec![Ipv4Addr::LOCALHOST]));
            check(stack.clone(), stack, wrapped).await;
        });
    }
}

#[test]
fn vectored_writes_and_stream_reads_arrive_intact_on_the_direct_stack() {
    for wrapped in [false, true] {
        mirage_unix::run(async move {
            let (a, b) = MemLink::pair();
            let address = |last| {
                Addressing::Static(Ipv4Config::default().address(Ipv4Addr::new(10, 0, 0, last)))
            };
            let server = DirectStack::connect(a, address(2)).await.unwrap();
            let client = DirectStack::connect(b, address(3)).await.unwrap();
            check(server, client, wrapped).await;
        });
    }
}

/// A flow whose every operation fails with one error.
struct Failing(TcpError);

#[async_trait(?Send)]
impl Flow for Failing {
    type Error = TcpError;

    async fn read(&self) -> Result<Read, TcpError> {
        Err(self.0.clone())
    }

    async fn write(&self, _: &[u8]) -> Result<(), TcpError> {
        Err(self.0.clone())
    }

    async fn close(&self) -> Result<(), TcpError> {
        Err(self.0.clone())
    }
}

#[test]
fn flow_errors_reach_tokio_with_their_kind() {
    mirage_unix::run(async {
        for (error, kind) in [
            (TcpError::Timeout, std::io::ErrorKind::TimedOut),
            (TcpError::Refused, std::io::ErrorKind::ConnectionRefused),
            (TcpError::Reset, std::io::ErrorKind::ConnectionReset),
        ] {
            let mut stream = FlowStream::new(Failing(error.clone()));
            let mut buf = [0u8; 8];
            assert_eq!(stream.read(&mut buf).await.unwrap_err().kind(), kind);
            assert_eq!(stream.write_all(b"x").await.unwrap_err().kind(), kind);
            // And the conversion `?` uses keeps it too.
            assert_eq!(std::io::Error::from(error).kind(), kind);
        }
    });
}
