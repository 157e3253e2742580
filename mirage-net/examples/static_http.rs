//! A static HTTP server, generic over the stack and the store: what a user writes with these
//! crates, with no ceremony. `Main<S, K>` binds a port (the pull form), accepts, and serves
//! each connection with hyper through `FlowStream`; the store is any `KvRo`.
//!
//! `cargo run -p mirage-net --example static_http -- DIRECTORY [PORT]` serves a directory
//! over the socket stack; `cargo test -p mirage-net --example static_http` runs it against a
//! client on both stacks.

use bytes::Bytes;
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use http_body_util::Full;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use mirage_net::FlowStream;
use mirage_types::{ErrorKind, KvRo, StackError, StackV4, TcpListener};
use std::convert::Infallible;

/// The application: a stack and a store. Devices are handles, so `&self` is all it needs.
pub struct Main<S: StackV4, K: KvRo> {
    stack: S,
    store: K,
}

impl<S: StackV4, K: KvRo> Main<S, K> {
    /// Applies the "functor" to its devices.
    pub fn new(stack: S, store: K) -> Self {
        Main { stack, store }
    }

    /// Binds `port` (0: any) and returns its listener, so the caller learns the port.
    pub async fn bind(&self, port: u16) -> Result<S::TcpListener, StackError> {
        self.stack.bind_tcpv4(port).await
    }

    /// Serves connections from `listener` until the stack is disconnected; connections run
    /// concurrently, as futures of this one (no task is spawned).
    pub async fn serve(&self, listener: S::TcpListener) {
        let mut connections = FuturesUnordered::new();
        loop {
            tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(flow) => connections.push(self.connection(flow)),
                    Err(_) => break,
                },
                Some(()) = connections.next(), if !connections.is_empty() => {}
            }
        }
    }

    async fn connection(&self, flow: mirage_types::StackFlow<S>) {
        let service = hyper::service::service_fn(|request| self.answer(request));
        let _ = hyper::server::conn::http1::Builder::new()
            .serve_connection(TokioIo::new(FlowStream::new(flow)), service)
            .await;
    }

    async fn answer<B>(&self, request: Request<B>) -> Result<Response<Full<Bytes>>, Infallible> {
        let reply = |status: StatusCode, body: Bytes| {
            let mut response = Response::new(Full::new(body));
            *response.status_mut() = status;
            Ok(response)
        };
        if request.method() != Method::GET {
            return reply(StatusCode::METHOD_NOT_ALLOWED, Bytes::new());
        }
        let key = match request.uri().path() {
            "/" => "index.html",
            path => path,
        };
        match self.store.get(key).await {
            Ok(body) => reply(StatusCode::OK, body),
            Err(error) if error.kind() == ErrorKind::NotFound => {
                reply(StatusCode::NOT_FOUND, Bytes::from_static(b"not found\n"))
            }
            Err(error) if error.kind() == ErrorKind::WrongEntryKind => {
                reply(StatusCode::NOT_FOUND, Bytes::from_static(b"not a file\n"))
            }
            Err(_) => reply(StatusCode::INTERNAL_SERVER_ERROR, Bytes::new()),
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let directory = args.next().ok_or("usage: static_http DIRECTORY [PORT]")?;
    let port: u16 = args.next().map_or(Ok(8080), |p| p.parse())?;
    mirage_unix::run(async {
        let store = mirage_kv::DirectKv::connect(&directory).await?;
        let main = Main::new(mirage_net::SocketStack::new(), store);
        let listener = main.bind(port).await?;
        println!("serving {directory} on http://{}", listener.local_addr());
        main.serve(listener).await;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;
    use mirage_net::{Addressing, DirectStack, MemLink, SocketStack, StackConfig};
    use mirage_types::{Ipv4Config, Tcpv4};
    use std::net::{Ipv4Addr, SocketAddrV4};

    /// Fetches `path` from `server` over a connection of `stack`.
    async fn get<S: StackV4>(stack: &S, server: SocketAddrV4, path: &str) -> (u16, Bytes) {
        let flow = stack.tcpv4().create_connection(server).await.unwrap();
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(FlowStream::new(flow)))
                .await
                .unwrap();
        tokio::task::spawn_local(connection);
        let request = Request::get(path)
            .header("host", "test")
            .body(Full::new(Bytes::new()))
            .unwrap();
        let response = sender.send_request(request).await.unwrap();
        let status = response.status().as_u16();
        (
            status,
            response.into_body().collect().await.unwrap().to_bytes(),
        )
    }

    fn site() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("index.html"), "<h1>home</h1>").unwrap();
        std::fs::create_dir(dir.path().join("css")).unwrap();
        std::fs::write(dir.path().join("css/site.css"), "h1 {}").unwrap();
        dir
    }

    async fn check<S: StackV4 + 'static>(server: S, client: S) {
        let dir = site();
        let store = std::rc::Rc::new(mirage_kv::DirectKv::connect(dir.path()).await.unwrap());
        // `Rc<K>` is a store: the application and the test share one.
        let main = std::rc::Rc::new(Main::new(server, store.clone()));
        let listener = main.bind(0).await.unwrap();
        let address = listener.local_addr();
        let serving = main.clone();
        tokio::task::spawn_local(async move { serving.serve(listener).await });
        assert_eq!(
            get(&client, address, "/").await,
            (200, "<h1>home</h1>".into())
        );
        assert_eq!(get(&client, address, "/css/site.css").await.1, "h1 {}");
        assert_eq!(get(&client, address, "/missing").await.0, 404);
        assert_eq!(get(&client, address, "/css").await.0, 404);
        assert_eq!(get(&client, address, "/../../etc/passwd").await.0, 404);
        main.stack.disconnect().await;
    }

    #[test]
    fn serves_a_directory_on_the_socket_stack() {
        mirage_unix::run(async {
            let stack =
                SocketStack::with_config(StackConfig::new().interfaces(vec![Ipv4Addr::LOCALHOST]));
            check(stack.clone(), stack).await;
        });
    }

    #[test]
    fn serves_a_directory_on_the_direct_stack() {
        mirage_unix::run(async {
            let (a, b) = MemLink::pair();
            let address = |last| {
                Addressing::Static(Ipv4Config::default().address(Ipv4Addr::new(10, 0, 0, last)))
            };
            let server = DirectStack::connect(a, address(2)).await.unwrap();
            let client = DirectStack::connect(b, address(3)).await.unwrap();
            check(server, client).await;
        });
    }
}
