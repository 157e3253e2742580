//! The application, generic over the console, the stack and the store.

use crate::protocol::{Request, answer};
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use mirage_net::FlowChannel;
use mirage_types::prelude::*;
use mirage_types::{ChannelError, StackError, StackFlow};

/// The kv_rw unikernel: a key/value store served over TCP, one request per line (see
/// [`crate::protocol`]), on any stack and any writable store. Every `SET` is durable when
/// `OK` is answered.
pub struct Main<C: Console, S: StackV4, K: KvRw> {
    console: C,
    stack: S,
    store: K,
    port: u16,
}

impl<C: Console, S: StackV4, K: KvRw> Main<C, S, K> {
    /// The application over these devices, to listen on `port` (0: any free port).
    pub fn new(console: C, stack: S, store: K, port: u16) -> Self {
        Main {
            console,
            stack,
            store,
            port,
        }
    }

    /// Serves connections, several at once, until the stack fails.
    pub async fn start(&self) -> Result<(), StackError> {
        let listener = self.stack.bind_tcpv4(self.port).await?;
        // On the console's output (stdout on Unix), where a supervisor or a test reads it.
        let _ = self
            .console
            .log_s(&format!("kv_rw: listening on {}", listener.local_addr()))
            .await;
        let mut connections = FuturesUnordered::new();
        loop {
            let accept = listener.accept();
            futures::pin_mut!(accept);
            let flow = loop {
                if connections.is_empty() {
                    break accept.as_mut().await;
                }
                match futures::future::select(accept.as_mut(), connections.next()).await {
                    futures::future::Either::Left((flow, _)) => break flow,
                    futures::future::Either::Right(_) => continue,
                }
            };
            match flow {
                Ok(flow) => connections.push(self.serve(flow)),
                Err(error) if error.kind() == ErrorKind::Disconnected => return Ok(()),
                Err(error) => self.console.log(&format!("kv_rw: accept: {error}")),
            }
        }
    }

    /// Answers one connection's requests until it ends or says `QUIT`.
    async fn serve(&self, flow: StackFlow<S>) {
        let peer = flow.get_dest();
        let channel = FlowChannel::new(flow);
        loop {
            let lines = match channel.read_line().await {
                Ok(None) => break,
                Ok(Some(line)) => match std::str::from_utf8(&line) {
                    Err(_) => vec!["ERR InvalidInput: requests are UTF-8 text".to_string()],
                    Ok(line) => match Request::parse(line) {
                        Err(refusal) => vec![refusal],
                        Ok(request) => {
                            let lines = answer(&self.store, &request).await;
                            if request == Request::Quit {
                                Self::send(&channel, &lines).await;
                                break;
                            }
                            lines
                        }
                    },
                },
                Err(ChannelError::LineTooLong { limit }) => {
                    let refusal = format!("ERR LimitExceeded: a request is at most {limit} bytes");
                    Self::send(&channel, &[refusal]).await;
                    break;
                }
                Err(error) => {
                    self.console.log(&format!("kv_rw: {peer}: {error}"));
                    break;
                }
            };
            if !Self::send(&channel, &lines).await {
                break;
            }
        }
        let _ = channel.close().await;
    }

    /// Writes `lines` and flushes; whether the peer is still there.
    async fn send(channel: &FlowChannel<StackFlow<S>>, lines: &[String]) -> bool {
        for line in lines {
            channel.write_line(line.as_bytes());
        }
        channel.flush().await.is_ok()
    }
}
