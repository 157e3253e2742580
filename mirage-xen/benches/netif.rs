//! Frames from a guest's Netfront through Netback onto an in-memory link, against the same
//! frames written to the link directly, in one run (frames per second, and the ratio).

use criterion::{Criterion, Throughput};
use mirage_net::MemLink;
use mirage_types::{Network, frame_handler};
use mirage_xen::back::Netback;
use mirage_xen::front::Netfront;
use mirage_xen::platform::Store;
use mirage_xen::platform::sim::{SimDomain, SimXen};
use mirage_xen::xenbus::{DeviceKind, DevicePaths, create_device};
use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

const BATCH: u64 = 2_000;
const FRAME: usize = 1_514;

struct Path<N> {
    sender: N,
    received: Rc<Cell<u64>>,
}

fn counted(receiver: MemLink, local: &tokio::task::LocalSet) -> Rc<Cell<u64>> {
    let received = Rc::new(Cell::new(0));
    let count = received.clone();
    local.spawn_local(async move {
        let _ = receiver
            .listen(frame_handler(move |_| {
                let count = count.clone();
                async move { count.set(count.get() + 1) }
            }))
            .await;
    });
    received
}

/// Sends a batch and waits until all of it has arrived.
async fn batch<N: Network>(path: &Path<N>) {
    let frame = vec![0x5a; FRAME];
    let target = path.received.get() + BATCH;
    for _ in 0..BATCH {
        path.sender.write(&frame).await.unwrap();
    }
    while path.received.get() < target {
        tokio::task::yield_now().await;
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let local = tokio::task::LocalSet::new();
    let xen = SimXen::new();
    let (dom0, guest) = (xen.domain(0), xen.domain(5));
    let (direct_a, direct_b) = MemLink::pair();
    let direct = Path {
        sender: direct_a,
        received: counted(direct_b, &local),
    };
    let (bridge, wire) = MemLink::pair();
    let received = counted(wire, &local);
    let front: Netfront<SimDomain> = local.block_on(&runtime, async {
        let paths = DevicePaths::new(DeviceKind::Vif, 5, 0, 0);
        create_device(&dom0, &paths, &[]).await.unwrap();
        dom0.write(0, &format!("{}/mac", paths.frontend), "00:16:3e:00:00:05")
            .await
            .unwrap();
        let backend = Rc::new(Netback::new(dom0.clone(), paths, bridge));
        tokio::task::spawn_local(async move { backend.serve().await });
        Netfront::connect(guest, 5, 0).await.unwrap()
    });
    let xen_path = Path {
        sender: front,
        received,
    };

    let mut criterion = Criterion::default()
        .configure_from_args()
        .measurement_time(Duration::from_secs(5));
    let mut group = criterion.benchmark_group("frames_1514");
    group.throughput(Throughput::Elements(BATCH));
    group.bench_function("memlink", |b| {
        b.iter(|| local.block_on(&runtime, batch(&direct)))
    });
    group.bench_function("netfront_netback", |b| {
        b.iter(|| local.block_on(&runtime, batch(&xen_path)))
    });
    group.finish();

    let time = |xen: bool| {
        let started = std::time::Instant::now();
        if xen {
            local.block_on(&runtime, batch(&xen_path));
        } else {
            local.block_on(&runtime, batch(&direct));
        }
        started.elapsed().as_secs_f64()
    };
    let (mut plain, mut through) = (Vec::new(), Vec::new());
    for _ in 0..30 {
        plain.push(time(false));
        through.push(time(true));
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        v[v.len() / 2]
    };
    let (p, t) = (median(&mut plain), median(&mut through));
    println!(
        "1514-byte frames: MemLink {:.0} frames/s, Netfront→Netback {:.0} frames/s, ratio {:.2}",
        BATCH as f64 / p,
        BATCH as f64 / t,
        p / t
    );
}
