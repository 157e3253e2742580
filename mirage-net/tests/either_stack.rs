//! `Either` of the socket stack and the direct stack is a stack: chosen at run time, used
//! through one generic function.

use mirage_net::{Addressing, DirectStack, MemLink, SocketStack, StackConfig};
use mirage_types::{Either, Flow, Ipv4, Ipv4Config, Read, StackV4, TcpFlow, Tcpv4};
use std::net::{Ipv4Addr, SocketAddrV4};

/// Serves an echo on `port` of `server` and checks one round trip from `client`.
async fn echo_round_trip<S: StackV4>(server: &S, client: &S, address: Ipv4Addr, port: u16) {
    server.listen_tcpv4(port, |flow| async move {
        if let Ok(Read::Data(data)) = flow.read().await {
            flow.write(&data).await.unwrap();
        }
        flow.close().await.unwrap();
    });
    let destination = SocketAddrV4::new(address, port);
    let flow = loop {
        match client.tcpv4().create_connection(destination).await {
            Ok(flow) => break flow,
            Err(_) => tokio::task::yield_now().await,
        }
    };
    assert_eq!(flow.get_dest(), destination);
    flow.write(b"either").await.unwrap();
    assert_eq!(flow.read().await.unwrap(), Read::Data("either".into()));
}

type Chosen = Either<SocketStack, DirectStack<MemLink>>;

#[test]
fn either_side_serves_through_the_same_code() {
    mirage_unix::run(async {
        // The socket stack, on loopback.
        let socket: Chosen = Either::Left(SocketStack::with_config(
            StackConfig::default().interfaces(vec![Ipv4Addr::LOCALHOST]),
        ));
        assert_eq!(socket.ipv4().get_ip(), [Ipv4Addr::LOCALHOST]);
        let server = socket.clone();
        tokio::task::spawn_local(async move { server.listen().await });
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        echo_round_trip(&socket, &socket, Ipv4Addr::LOCALHOST, port).await;

        // Two direct stacks over an in-memory link.
        let (a, b) = MemLink::pair();
        let config =
            |last| Addressing::Static(Ipv4Config::default().address(Ipv4Addr::new(10, 0, 0, last)));
        let a: Chosen = Either::Right(DirectStack::connect(a, config(2)).await.unwrap());
        let b: Chosen = Either::Right(DirectStack::connect(b, config(3)).await.unwrap());
        assert_eq!(b.ipv4().get_ip(), [Ipv4Addr::new(10, 0, 0, 3)]);
        let server = b.clone();
        tokio::task::spawn_local(async move { server.listen().await });
        echo_round_trip(&b, &a, Ipv4Addr::new(10, 0, 0, 3), 7).await;
    });
}
