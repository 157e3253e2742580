//! The application: `Main<C, S, K>` serves store `K` over HTTP/1.1 (and HTTPS) on stack
//! `S`, saying what it does on console `C`.
//!
//! Connections are futures of `serve`, not tasks (nothing is spawned, so it runs under any
//! single-threaded executor the stack runs on). Each connection gets `header_timeout` to
//! finish its TLS handshake and each request's head, so a client that sends slowly or not at
//! all (slowloris) is dropped; beyond `max_connections` at once, new connections are closed
//! as soon as they are accepted and counted.

use crate::http::{self, DateCache, Request, TcpTransport};
use crate::respond::{Redirect, Responder};
use crate::tls::{Tls, TlsError, TlsTransport, server_config};
use alloc::boxed::Box;
use alloc::rc::Rc;
use alloc::string::{String, ToString};
use alloc::{format, vec};
use core::cell::Cell;
use core::future::{Future, poll_fn};
use core::net::{IpAddr, SocketAddr};
use core::pin::Pin;
use core::task::Poll;
use core::time::Duration;
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use mirage_types::{
    Clock, Console, KvRo, StackError, StackFlowV4V6, StackV4V6, TcpError, TcpFlow, TcpListenerV4V6,
    Time,
};

/// The longest [`Config::header_timeout`]: a day. (Timers count from now, and a deadline
/// beyond the clock's range would overflow it.)
pub const MAX_HEADER_TIMEOUT: Duration = Duration::from_secs(24 * 60 * 60);

/// How the server runs.
#[derive(Clone)]
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
    /// The cryptography HTTPS runs on (`None`: rustls's `ring` where the crate has `std`).
    pub tls: Option<Tls>,
    /// The wall clock answers are dated by (`None`: no `Date` header, as RFC 9110 has a
    /// server without a clock do).
    pub clock: Option<Rc<dyn Clock>>,
}

impl core::fmt::Debug for Config {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Config")
            .field("http_port", &self.http_port)
            .field("https_port", &self.https_port)
            .field("max_connections", &self.max_connections)
            .field("header_timeout", &self.header_timeout)
            .field("tls", &self.tls)
            .field("clock", &self.clock.is_some())
            .finish()
    }
}

impl Default for Config {
    /// HTTP on 8080, no HTTPS, 1024 connections, 10 s for a request's head.
    fn default() -> Self {
        Config {
            http_port: 8080,
            https_port: None,
            max_connections: 1024,
            header_timeout: Duration::from_secs(10),
            tls: None,
            clock: None,
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
    /// Answers dated by `clock` (the `Date` header).
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Some(Rc::new(clock));
        self
    }
    /// HTTPS on `tls` (its cryptography and clock).
    pub fn tls(mut self, tls: Tls) -> Self {
        self.tls = Some(tls);
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
    /// HTTPS was asked for without a crypto provider, in a build without `ring`.
    #[error("HTTPS: no crypto provider (Config::tls)")]
    NoCrypto,
    /// Accepting failed (the stack went away).
    #[error("accepting connections: {0}")]
    Accept(TcpError),
    /// The console failed.
    #[error("console: {0}")]
    Console(String),
}

/// The TLS configuration a listener serves with.
type TlsConfig = alloc::sync::Arc<rustls::ServerConfig>;

/// The bound ports, ready to serve.
pub struct Listeners<S: StackV4V6> {
    http: S::TcpListener,
    https: Option<(S::TcpListener, TlsConfig)>,
}

impl<S: StackV4V6> Listeners<S> {
    /// Where HTTP is served.
    pub fn http_addr(&self) -> SocketAddr {
        self.http.local_addr()
    }
    /// Where HTTPS is served, if on.
    pub fn https_addr(&self) -> Option<SocketAddr> {
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

/// The static website: serves store `K` on stack `S`, saying what it does on console `C`,
/// timing clients out on `T`.
pub struct Main<C: Console, S: StackV4V6, K: KvRo + 'static, T: Time> {
    console: C,
    stack: S,
    time: T,
    responder: Responder<K>,
    dates: Option<DateCache>,
    config: Config,
    counters: Cell<Counters>,
    /// The most connections open at once since memory was last released.
    peak_since_release: Cell<usize>,
}

/// One connection being served.
type Connection<'a> = Pin<Box<dyn Future<Output = ()> + 'a>>;

/// What the accept loop saw.
enum Accepted<F> {
    Http(Result<F, TcpError>),
    Https(Result<F, TcpError>),
}

impl<C: Console, S: StackV4V6, K: KvRo + 'static, T: Time> Main<C, S, K, T> {
    /// Applies the "functor" to its devices.
    pub fn new(console: C, stack: S, time: T, store: K, config: Config) -> Self {
        Main {
            console,
            stack,
            time,
            responder: Responder::new(Rc::new(store)),
            dates: config.clock.clone().map(DateCache::new),
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

    /// The TLS configuration from the store's files.
    async fn tls_config(&self) -> Result<TlsConfig, ServeError> {
        let tls = match &self.config.tls {
            Some(tls) => tls.clone(),
            #[cfg(feature = "std")]
            None => Tls::ring(),
            #[cfg(not(feature = "std"))]
            None => return Err(ServeError::NoCrypto),
        };
        Ok(server_config(&**self.responder.store(), &tls).await?)
    }

    /// Reads the TLS files (with HTTPS on) and binds the ports, saying so on the console.
    pub async fn bind(&self) -> Result<Listeners<S>, ServeError> {
        let tls = match self.config.https_port {
            Some(port) => Some((port, self.tls_config().await?)),
            None => None,
        };
        let port = self.config.http_port;
        let http = self
            .stack
            .bind_tcp(port)
            .await
            .map_err(|e| ServeError::Bind(port, e))?;
        let https = match tls {
            Some((port, config)) => Some((
                self.stack
                    .bind_tcp(port)
                    .await
                    .map_err(|e| ServeError::Bind(port, e))?,
                config,
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
                // An IPv6 address is bracketed in a URL's host.
                match listeners.http_addr().ip() {
                    ip if ip.is_unspecified() => None,
                    IpAddr::V4(ip) => Some(ip.to_string()),
                    IpAddr::V6(ip) => Some(format!("[{ip}]")),
                }
            },
        });
        let redirect = redirect.as_ref();
        let mut connections: FuturesUnordered<Connection<'_>> = FuturesUnordered::new();
        let mut http_accept = listeners.http.accept();
        let mut https_accept = listeners
            .https
            .as_ref()
            .map(|(listener, _)| listener.accept());
        loop {
            let accepted = poll_fn(|cx| {
                // Finished connections leave the set; the rest are polled when woken.
                while let Poll::Ready(Some(())) = connections.poll_next_unpin(cx) {}
                if let Poll::Ready(flow) = http_accept.as_mut().poll(cx) {
                    return Poll::Ready(Accepted::Http(flow));
                }
                if let Some(accept) = &mut https_accept
                    && let Poll::Ready(flow) = accept.as_mut().poll(cx)
                {
                    return Poll::Ready(Accepted::Https(flow));
                }
                Poll::Pending
            })
            .await;
            match accepted {
                Accepted::Http(flow) => {
                    http_accept = listeners.http.accept();
                    let flow = flow.map_err(ServeError::Accept)?;
                    if let Some(served) = self.admit(flow, |flow| self.http(flow, redirect)) {
                        connections.push(served);
                    }
                }
                Accepted::Https(flow) => {
                    let flow = flow.map_err(ServeError::Accept)?;
                    if let Some((listener, config)) = &listeners.https {
                        https_accept = Some(listener.accept());
                        if let Some(served) = self.admit(flow, |flow| self.https(flow, config)) {
                            connections.push(served);
                        }
                    }
                }
            }
        }
    }

    /// The connection's future, or `None` (the flow dropped, so closed) when
    /// `max_connections` are being served.
    fn admit<'a, F: Future<Output = ()> + 'a>(
        &'a self,
        flow: StackFlowV4V6<S>,
        serve: impl FnOnce(StackFlowV4V6<S>) -> F,
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
    async fn http(&self, flow: StackFlowV4V6<S>, redirect: Option<&Redirect>) {
        // Answers may go out in several writes (the head, then the body's chunks): with
        // Nagle's algorithm each answer's last short segment would wait for the client's
        // delayed ACK. Failing to set it only costs that wait.
        let _ = flow.set_nodelay(true);
        self.requests(&mut TcpTransport(flow), redirect).await
    }

    /// An HTTPS connection: the handshake within `header_timeout`, then the site.
    async fn https(&self, flow: StackFlowV4V6<S>, config: &TlsConfig) {
        let _ = flow.set_nodelay(true);
        let handshake = TlsTransport::accept(TcpTransport(flow), config.clone());
        let timeout = self.time.sleep(self.config.header_timeout);
        if let futures::future::Either::Left((Ok(mut tls), _)) =
            futures::future::select(core::pin::pin!(handshake), timeout).await
        {
            self.requests(&mut tls, None).await;
        }
    }

    /// Requests on one connection, kept alive, each head read within `header_timeout`.
    async fn requests(&self, io: &mut impl http::Transport, redirect: Option<&Redirect>) {
        http::serve(
            io,
            &self.time,
            self.config.header_timeout,
            async |request: &Request| {
                let mut response = match redirect {
                    Some(redirect) => self.responder.redirect(request, redirect),
                    None => self.responder.respond(request).await,
                };
                if let Some(dates) = &self.dates {
                    response.set_header("date", dates.now());
                }
                response
            },
        )
        .await
    }
}

/// Connections open at once, at least, before the last one closing releases free memory
/// (a server taking one connection at a time never pays for it).
const RELEASE_AFTER: usize = 64;

/// Once the last connection has closed: hands the memory the allocator keeps free back to
/// the system (glibc keeps freed connection buffers for reuse, so a burst of connections
/// would otherwise leave the server at its peak).
fn release_free_memory() {
    #[cfg(all(feature = "std", target_os = "linux", target_env = "gnu"))]
    // SAFETY: no arguments beyond the padding to keep; safe at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}
