//! The application: `Main<C, S, K>` serves store `K` over HTTP/1.1 (and HTTPS) on stack
//! `S`, saying what it does on console `C`.
//!
//! Connections are futures of `serve`, not tasks (nothing is spawned, so it runs under any
//! single-threaded executor the stack runs on). Each connection gets `header_timeout` to
//! finish its TLS handshake and each request's head, so a client that sends slowly or not at
//! all (slowloris) is dropped; beyond `max_connections` at once, new connections are closed
//! as soon as they are accepted and counted.

use crate::body::Body;
use crate::respond::{Redirect, Responder};
use crate::tls::{TlsError, server_config};
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use mirage_net::FlowStream;
use mirage_types::{Console, KvRo, StackError, StackFlow, StackV4, TcpError, TcpFlow, TcpListener};
use std::cell::Cell;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddrV4;
use std::pin::Pin;
use std::rc::Rc;
use std::time::Duration;
use tokio_rustls::TlsAcceptor;

/// The longest [`Config::header_timeout`]: a day. (Timers count from now, and a deadline
/// beyond the clock's range would overflow it.)
pub const MAX_HEADER_TIMEOUT: Duration = Duration::from_secs(24 * 60 * 60);

/// How the server runs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// The HTTP port (0: any free port).
    pub http_port: u16,
    /// The HTTPS port, if HTTPS is on; plain HTTP then answers with a redirect to it.
    pub https_port: Option<u16>,
    /// Connections served at once, at most.
    pub max_connections: usize,
    /// Time a client has for its TLS handshake and for each request's head.
    pub header_timeout: Duration,
}

impl Default for Config {
    /// HTTP on 8080, no HTTPS, 1024 connections, 10 s for a request's head.
    fn default() -> Self {
        Config {
            http_port: 8080,
            https_port: None,
            max_connections: 1024,
            header_timeout: Duration::from_secs(10),
        }
    }
}

impl Config {
    /// The HTTP port.
    pub fn http_port(mut self, port: u16) -> Self {
        self.http_port = port;
        self
    }
    /// HTTPS on `port` (`None`: off).
    pub fn https_port(mut self, port: Option<u16>) -> Self {
        self.https_port = port;
        self
    }
    /// The most connections served at once.
    pub fn max_connections(mut self, max: usize) -> Self {
        self.max_connections = max;
        self
    }
    /// The time for a handshake and for each request's head, at most
    /// [`MAX_HEADER_TIMEOUT`] (a longer one is cut to it).
    pub fn header_timeout(mut self, timeout: Duration) -> Self {
        self.header_timeout = timeout.min(MAX_HEADER_TIMEOUT);
        self
    }
}

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// A port could not be bound.
    #[error("binding port {0}: {1}")]
    Bind(u16, StackError),
    /// HTTPS was asked for and cannot be set up.
    #[error("HTTPS: {0}")]
    Tls(#[from] TlsError),
    /// Accepting failed (the stack went away).
    #[error("accepting connections: {0}")]
    Accept(TcpError),
    /// The console failed.
    #[error("console: {0}")]
    Console(String),
}

/// The bound ports, ready to serve.
pub struct Listeners<S: StackV4> {
    http: S::TcpListener,
    https: Option<(S::TcpListener, TlsAcceptor)>,
}

impl<S: StackV4> Listeners<S> {
    /// Where HTTP is served.
    pub fn http_addr(&self) -> SocketAddrV4 {
        self.http.local_addr()
    }
    /// Where HTTPS is served, if on.
    pub fn https_addr(&self) -> Option<SocketAddrV4> {
        self.https
            .as_ref()
            .map(|(listener, _)| listener.local_addr())
    }
}

/// Connection counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// Connections being served now.
    pub active: usize,
    /// Connections accepted and served since the start.
    pub served: u64,
    /// Connections closed at once because `max_connections` were being served.
    pub refused: u64,
}

/// The static website.
pub struct Main<C: Console, S: StackV4, K: KvRo + 'static> {
    console: C,
    stack: S,
    responder: Responder<K>,
    config: Config,
    counters: Cell<Counters>,
    /// The most connections open at once since memory was last released.
    peak_since_release: Cell<usize>,
}

/// One connection being served.
type Connection<'a> = Pin<Box<dyn Future<Output = ()> + 'a>>;

impl<C: Console, S: StackV4, K: KvRo + 'static> Main<C, S, K> {
    /// Applies the "functor" to its devices.
    pub fn new(console: C, stack: S, store: K, config: Config) -> Self {
        Main {
            console,
            stack,
            responder: Responder::new(Rc::new(store)),
            config,
            counters: Cell::new(Counters::default()),
            peak_since_release: Cell::new(0),
        }
    }

    /// The stack.
    pub fn stack(&self) -> &S {
        &self.stack
    }

    /// Connection counts so far.
    pub fn counters(&self) -> Counters {
        self.counters.get()
    }

    /// Binds the ports, and with HTTPS on reads the certificate and key from the store
    /// first (an error if they are missing or do not match), then serves until the stack
    /// stops.
    pub async fn start(&self) -> Result<(), ServeError> {
        let listeners = self.bind().await?;
        self.serve(listeners).await
    }

    /// Reads the TLS files (with HTTPS on) and binds the ports, saying so on the console.
    pub async fn bind(&self) -> Result<Listeners<S>, ServeError> {
        let tls = match self.config.https_port {
            Some(port) => Some((port, server_config(&**self.responder.store()).await?)),
            None => None,
        };
        let port = self.config.http_port;
        let http = self
            .stack
            .bind_tcpv4(port)
            .await
            .map_err(|e| ServeError::Bind(port, e))?;
        let https = match tls {
            Some((port, config)) => Some((
                self.stack
                    .bind_tcpv4(port)
                    .await
                    .map_err(|e| ServeError::Bind(port, e))?,
                TlsAcceptor::from(config),
            )),
            None => None,
        };
        let listeners = Listeners { http, https };
        let mut lines = vec![format!(
            "HTTP on port {} at {}{}",
            listeners.http_addr().port(),
            listeners.http_addr(),
            if listeners.https.is_some() {
                " (redirecting to HTTPS)"
            } else {
                ""
            }
        )];
        if let Some(addr) = listeners.https_addr() {
            lines.push(format!("HTTPS on port {} at {addr}", addr.port()));
        }
        for line in lines {
            self.console
                .log_s(&line)
                .await
                .map_err(|e| ServeError::Console(e.to_string()))?;
        }
        Ok(listeners)
    }

    /// Serves connections from both ports until accepting fails (the stack stopped).
    pub async fn serve(&self, listeners: Listeners<S>) -> Result<(), ServeError> {
        let redirect = listeners.https_addr().map(|https| Redirect {
            https_port: https.port(),
            fallback_host: {
                let ip = listeners.http_addr().ip().to_owned();
                (!ip.is_unspecified()).then(|| ip.to_string())
            },
        });
        let mut connections: FuturesUnordered<Connection<'_>> = FuturesUnordered::new();
        loop {
            let https_accept = async {
                match &listeners.https {
                    Some((listener, _)) => listener.accept().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                accepted = listeners.http.accept() => {
                    let flow = accepted.map_err(ServeError::Accept)?;
                    if let Some(served) = self.admit(flow, |flow| self.http(flow, redirect.as_ref())) {
                        connections.push(served);
                    }
                }
                accepted = https_accept => {
                    let flow = accepted.map_err(ServeError::Accept)?;
                    if let Some((_, acceptor)) = &listeners.https
                        && let Some(served) = self.admit(flow, |flow| self.https(flow, acceptor))
                    {
                        connections.push(served);
                    }
                }
                Some(()) = connections.next(), if !connections.is_empty() => {}
            }
        }
    }

    /// The connection's future, or `None` (the flow dropped, so closed) when
    /// `max_connections` are being served.
    fn admit<'a, F: Future<Output = ()> + 'a>(
        &'a self,
        flow: StackFlow<S>,
        serve: impl FnOnce(StackFlow<S>) -> F,
    ) -> Option<Connection<'a>> {
        let mut counters = self.counters.get();
        if counters.active >= self.config.max_connections {
            counters.refused += 1;
            self.counters.set(counters);
            return None;
        }
        counters.active += 1;
        counters.served += 1;
        self.counters.set(counters);
        self.peak_since_release
            .set(self.peak_since_release.get().max(counters.active));
        let served = serve(flow);
        Some(Box::pin(async move {
            served.await;
            let mut counters = self.counters.get();
            counters.active -= 1;
            self.counters.set(counters);
            if counters.active == 0 && self.peak_since_release.replace(0) >= RELEASE_AFTER {
                release_free_memory();
            }
        }))
    }

    /// A plain HTTP connection: the site, or with HTTPS on a redirect to it.
    async fn http(&self, flow: StackFlow<S>, redirect: Option<&Redirect>) {
        // Answers go out in several writes (the head, then the body's chunks): with
        // Nagle's algorithm each answer's last short segment would wait for the client's
        // delayed ACK. Failing to set it only costs that wait.
        let _ = flow.set_nodelay(true);
        self.requests(TokioIo::new(FlowStream::new(flow)), redirect)
            .await
    }

    /// An HTTPS connection: the handshake within `header_timeout`, then the site.
    async fn https(&self, flow: StackFlow<S>, acceptor: &TlsAcceptor) {
        let _ = flow.set_nodelay(true);
        let handshake = acceptor.accept(FlowStream::new(flow));
        if let Ok(Ok(stream)) = tokio::time::timeout(self.config.header_timeout, handshake).await {
            self.requests(TokioIo::new(stream), None).await;
        }
    }

    /// Requests on one connection, kept alive, each head read within `header_timeout`.
    async fn requests<I>(&self, io: I, redirect: Option<&Redirect>)
    where
        I: hyper::rt::Read + hyper::rt::Write + Unpin + 'static,
    {
        let service = hyper::service::service_fn(|request| async move {
            let response: hyper::Response<Body> = match redirect {
                Some(redirect) => self.responder.redirect(&request, redirect),
                None => self.responder.respond(&request).await,
            };
            Ok::<_, Infallible>(response)
        });
        // A client that half-closes after its request (`nc -N`) still gets its answer.
        let _ = http1::Builder::new()
            .half_close(true)
            .timer(TokioTimer::new())
            .header_read_timeout(self.config.header_timeout)
            .max_buf_size(64 * 1024)
            .serve_connection(io, service)
            .await;
    }
}

/// Connections open at once, at least, before the last one closing releases free memory
/// (a server taking one connection at a time never pays for it).
const RELEASE_AFTER: usize = 64;

/// Once the last connection has closed: hands the memory the allocator keeps free back to
/// the system (glibc keeps freed connection buffers for reuse, so a burst of connections
/// would otherwise leave the server at its peak).
fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: no arguments beyond the padding to keep; safe at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}
