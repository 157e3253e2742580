//! The direct stack's TCP timeout bounds every wait on a peer that stays up: a read for
//! data that never comes, and a write to a peer that stops reading (its window shut, its
//! window probes answered), as the socket stack's idle timeout does.

use mirage_net::{Addressing, DirectStack, MemLink};
use mirage_types::{Flow, Ipv4Config, StackV4, TcpError, TcpListener, Tcpv4};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::{Duration, Instant};

fn config(last: u8) -> Addressing {
    Addressing::Static(Ipv4Config::new(
        Ipv4Addr::new(10, 0, 0, last),
        Ipv4Addr::new(255, 255, 255, 0),
        vec![Ipv4Addr::new(10, 0, 0, 1)],
    ))
}

async fn pair() -> (DirectStack<MemLink>, DirectStack<MemLink>) {
    let (a, b) = MemLink::pair();
    let a = DirectStack::connect(a, config(2)).await.unwrap();
    let b = DirectStack::connect(b, config(3)).await.unwrap();
    (a, b)
}

#[test]
fn a_write_to_a_peer_that_stops_reading_fails_after_the_timeout() {
    mirage_unix::run(async {
        let (server, client) = pair().await;
        server.set_tcp_timeout(Duration::from_secs(2));
        let listener = server.bind_tcpv4(80).await.unwrap();
        let tcp = client.tcpv4();
        let connecting = tcp.create_connection(SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 2), 80));
        let (accepted, connected) = futures::join!(listener.accept(), connecting);
        let (flow, _reader_that_never_reads) = (accepted.unwrap(), connected.unwrap());
        let chunk = vec![7u8; 64 * 1024];
        let began = Instant::now();
        let outcome = tokio::time::timeout(Duration::from_secs(30), async {
            loop {
                if let Err(error) = flow.write(&chunk).await {
                    return error;
                }
            }
        })
        .await;
        let waited = began.elapsed();
        assert_eq!(outcome, Ok(TcpError::Timeout), "after {waited:?}");
        assert!(waited >= Duration::from_secs(2), "{waited:?}");
    });
}

#[test]
fn a_read_from_a_silent_peer_fails_after_the_timeout_and_data_restarts_the_wait() {
    mirage_unix::run(async {
        let (server, client) = pair().await;
        server.set_tcp_timeout(Duration::from_secs(1));
        let listener = server.bind_tcpv4(80).await.unwrap();
        let tcp = client.tcpv4();
        let connecting = tcp.create_connection(SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 2), 80));
        let (accepted, connected) = futures::join!(listener.accept(), connecting);
        let (flow, peer) = (accepted.unwrap(), connected.unwrap());
        // Data every half second: never a timeout, though the whole takes longer than it.
        let talk = async {
            for _ in 0..4 {
                tokio::time::sleep(Duration::from_millis(500)).await;
                peer.write(b"x").await.unwrap();
            }
        };
        let listen = async {
            for _ in 0..4 {
                assert!(matches!(flow.read().await, Ok(mirage_types::Read::Data(_))));
            }
        };
        futures::join!(talk, listen);
        let began = Instant::now();
        let outcome = tokio::time::timeout(Duration::from_secs(30), flow.read()).await;
        assert_eq!(outcome.unwrap(), Err(TcpError::Timeout));
        assert!(began.elapsed() >= Duration::from_secs(1));
    });
}
