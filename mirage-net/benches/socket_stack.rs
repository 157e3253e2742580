//! `SocketStack` flows against plain tokio `TcpStream`s over loopback, in one run: bulk
//! throughput with 64 KiB writes, and the round trip of a 64-byte ping-pong.
//!
//! Both sides of each connection live in one current-thread runtime, as a Mirage
//! application's do. After Criterion's groups, prints the ratios of the medians of
//! interleaved rounds (tokio time / SocketStack time, so 1.0 = equal and higher is better for
//! the stack): interleaving cancels the drift of a noisy machine.

use criterion::{Criterion, Throughput};
use mirage_net::{SocketFlow, SocketStack, StackConfig};
use mirage_types::{Flow, Read, StackV4, Tcpv4};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Runtime;
use tokio::task::LocalSet;

const CHUNK: usize = 64 * 1024;
/// Bytes per bulk round: the receiver acknowledges each with one byte.
const ROUND: usize = 8 << 20;
const PING: usize = 64;

/// One connection of each kind, with a server task on the far end.
struct Pair {
    ours: SocketFlow,
    tokio: TcpStream,
}

async fn bulk_sink_ours(flow: SocketFlow) {
    let mut received = 0;
    while let Ok(Read::Data(data)) = flow.read().await {
        received += data.len();
        while received >= ROUND {
            received -= ROUND;
            flow.write(b"!").await.unwrap();
        }
    }
}

async fn bulk_sink_tokio(mut stream: TcpStream) {
    let mut buf = vec![0u8; CHUNK];
    let mut received = 0;
    while let Ok(n) = stream.read(&mut buf).await {
        if n == 0 {
            break;
        }
        received += n;
        while received >= ROUND {
            received -= ROUND;
            stream.write_all(b"!").await.unwrap();
        }
    }
}

async fn echo_ours(flow: SocketFlow) {
    while let Ok(Read::Data(data)) = flow.read().await {
        flow.write(&data).await.unwrap();
    }
}

async fn echo_tokio(mut stream: TcpStream) {
    let mut buf = vec![0u8; CHUNK];
    while let Ok(n) = stream.read(&mut buf).await {
        if n == 0 {
            break;
        }
        stream.write_all(&buf[..n]).await.unwrap();
    }
}

/// Sets up a stack server and a tokio server on loopback, with `bulk` or echo behaviour,
/// and connects one client to each.
async fn connect(bulk: bool) -> Pair {
    let stack =
        SocketStack::with_config(StackConfig::default().interfaces(vec![Ipv4Addr::LOCALHOST]));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    if bulk {
        stack.listen_tcpv4(port, bulk_sink_ours);
    } else {
        stack.listen_tcpv4(port, echo_ours);
    }
    let server = stack.clone();
    tokio::task::spawn_local(async move { server.listen().await.unwrap() });
    let ours = loop {
        match stack
            .tcpv4()
            .create_connection(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port))
            .await
        {
            Ok(flow) => break flow,
            Err(_) => tokio::task::yield_now().await,
        }
    };
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::task::spawn_local(async move {
        let (stream, _) = listener.accept().await.unwrap();
        if bulk {
            bulk_sink_tokio(stream).await
        } else {
            echo_tokio(stream).await
        }
    });
    let tokio = TcpStream::connect(address).await.unwrap();
    Pair { ours, tokio }
}

async fn bulk_round_ours(flow: &SocketFlow, chunk: &[u8]) {
    for _ in 0..ROUND / CHUNK {
        flow.write(chunk).await.unwrap();
    }
    assert!(matches!(flow.read().await.unwrap(), Read::Data(_)));
}

async fn bulk_round_tokio(stream: &mut TcpStream, chunk: &[u8]) {
    for _ in 0..ROUND / CHUNK {
        stream.write_all(chunk).await.unwrap();
    }
    let mut ack = [0u8; 1];
    stream.read_exact(&mut ack).await.unwrap();
}

async fn ping_ours(flow: &SocketFlow, ping: &[u8]) {
    flow.write(ping).await.unwrap();
    let mut got = 0;
    while got < PING {
        match flow.read().await.unwrap() {
            Read::Data(data) => got += data.len(),
            Read::Eof => panic!("echo closed"),
        }
    }
}

async fn ping_tokio(stream: &mut TcpStream, ping: &[u8]) {
    let mut pong = [0u8; PING];
    stream.write_all(ping).await.unwrap();
    stream.read_exact(&mut pong).await.unwrap();
}

fn runtime() -> (Runtime, LocalSet) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    (rt, LocalSet::new())
}

fn criterion_groups(c: &mut Criterion) {
    let (rt, local) = runtime();
    let chunk = vec![0x5au8; CHUNK];
    let ping = [0x42u8; PING];
    let mut bulk = local.block_on(&rt, connect(true));
    let mut group = c.benchmark_group("bulk_64k_writes");
    group.throughput(Throughput::Bytes(ROUND as u64));
    group.bench_function("tokio", |b| {
        b.iter(|| local.block_on(&rt, bulk_round_tokio(&mut bulk.tokio, &chunk)))
    });
    group.bench_function("socket_stack", |b| {
        b.iter(|| local.block_on(&rt, bulk_round_ours(&bulk.ours, &chunk)))
    });
    group.finish();

    let mut echo = local.block_on(&rt, connect(false));
    let mut group = c.benchmark_group("ping_pong_64b");
    group.bench_function("tokio", |b| {
        b.iter(|| local.block_on(&rt, ping_tokio(&mut echo.tokio, &ping)))
    });
    group.bench_function("socket_stack", |b| {
        b.iter(|| local.block_on(&rt, ping_ours(&echo.ours, &ping)))
    });
    group.finish();
}

/// Median over `rounds` of (tokio time / stack time), alternating which goes first.
fn interleaved(rounds: usize, bulk: bool) -> (f64, Duration, Duration) {
    let (rt, local) = runtime();
    let chunk = vec![0x5au8; CHUNK];
    let ping = [0x42u8; PING];
    let mut pair = local.block_on(&rt, connect(bulk));
    let mut ratios = Vec::with_capacity(rounds);
    let (mut ours_times, mut tokio_times) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        let mut ours = Duration::ZERO;
        let mut theirs = Duration::ZERO;
        for turn in 0..2 {
            let start = Instant::now();
            if (round + turn) % 2 == 0 {
                local.block_on(&rt, async {
                    if bulk {
                        bulk_round_tokio(&mut pair.tokio, &chunk).await
                    } else {
                        ping_tokio(&mut pair.tokio, &ping).await
                    }
                });
                theirs = start.elapsed();
            } else {
                local.block_on(&rt, async {
                    if bulk {
                        bulk_round_ours(&pair.ours, &chunk).await
                    } else {
                        ping_ours(&pair.ours, &ping).await
                    }
                });
                ours = start.elapsed();
            }
        }
        ratios.push(theirs.as_secs_f64() / ours.as_secs_f64());
        ours_times.push(ours);
        tokio_times.push(theirs);
    }
    ratios.sort_by(f64::total_cmp);
    ours_times.sort();
    tokio_times.sort();
    (
        ratios[rounds / 2],
        ours_times[rounds / 2],
        tokio_times[rounds / 2],
    )
}

fn main() {
    let mut c = Criterion::default()
        .output_directory(&std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("criterion"))
        .configure_from_args();
    criterion_groups(&mut c);
    c.final_summary();
    let (ratio, ours, tokio) = interleaved(200, true);
    let gbit = |t: Duration| ROUND as f64 * 8.0 / t.as_secs_f64() / 1e9;
    println!(
        "\nbulk 64 KiB writes: socket stack {:.1} Gbit/s, tokio {:.1} Gbit/s, throughput ratio {ratio:.2}",
        gbit(ours),
        gbit(tokio)
    );
    let (ratio, ours, tokio) = interleaved(20_000, false);
    println!(
        "ping-pong 64 B: socket stack median {ours:?}, tokio median {tokio:?}, latency ratio (stack / tokio) {:.2}",
        1.0 / ratio
    );
}
