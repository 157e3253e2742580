//! Blkfront → Blkback → MemBlock in the simulated hypervisor, against MemBlock read
//! directly, in one run: what the block protocol costs (grants, ring, events, copies).
//! Prints the throughput ratio (medians of interleaved rounds) at the end.

use criterion::{Criterion, Throughput};
use mirage_block::MemBlock;
use mirage_types::Block;
use mirage_xen::back::Blkback;
use mirage_xen::front::Blkfront;
use mirage_xen::platform::sim::{SimDomain, SimXen};
use mirage_xen::xenbus::{DeviceKind, DevicePaths, create_device};
use std::rc::Rc;
use std::time::Duration;

const SECTORS: u64 = 131_072; // 64 MiB of 512-byte sectors
const REQUEST: usize = 64 * 1024;
const BATCH: usize = 64;

struct Bench {
    runtime: tokio::runtime::Runtime,
    local: tokio::task::LocalSet,
    direct: MemBlock,
    front: Rc<Blkfront<SimDomain>>,
    _xen: SimXen,
}

fn setup() -> Bench {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let local = tokio::task::LocalSet::new();
    let xen = SimXen::new();
    let (dom0, guest) = (xen.domain(0), xen.domain(5));
    let disk = MemBlock::new(512, SECTORS).unwrap();
    let direct = MemBlock::new(512, SECTORS).unwrap();
    let front = local.block_on(&runtime, async {
        let paths = DevicePaths::new(DeviceKind::Vbd, 5, 0, 51712);
        create_device(&dom0, &paths, &[("mode", "w")])
            .await
            .unwrap();
        let backend = Rc::new(Blkback::new(dom0.clone(), paths, disk));
        tokio::task::spawn_local(async move { backend.serve().await });
        Rc::new(Blkfront::connect(guest, 5, 51712).await.unwrap())
    });
    Bench {
        runtime,
        local,
        direct,
        front,
        _xen: xen,
    }
}

thread_local! {
    /// The batch's buffers, allocated once: an allocation and zeroing per read would be
    /// measured in both paths alike and hide the difference.
    static BUFFERS: std::cell::RefCell<Vec<Vec<u8>>> =
        std::cell::RefCell::new(vec![vec![0u8; REQUEST]; BATCH]);
}

/// One batch of 64 KiB reads at spread offsets, all in flight at once.
async fn batch<B: Block>(block: &B, round: u64) {
    let step = (REQUEST / 512) as u64;
    let mut buffers = BUFFERS.with(|b| std::mem::take(&mut *b.borrow_mut()));
    let reads = buffers.iter_mut().enumerate().map(|(i, buffer)| {
        let sector = (round * BATCH as u64 + i as u64) * step % (SECTORS - step);
        async move {
            block.read_at(sector, buffer).await.unwrap();
        }
    });
    futures::future::join_all(reads).await;
    BUFFERS.with(|b| *b.borrow_mut() = buffers);
}

fn main() {
    let bench = setup();
    let mut criterion = Criterion::default()
        .configure_from_args()
        .measurement_time(Duration::from_secs(5));
    let mut group = criterion.benchmark_group("blkif_64k_reads");
    group.throughput(Throughput::Bytes((REQUEST * BATCH) as u64));
    let mut round = 0;
    group.bench_function("memblock", |b| {
        b.iter(|| {
            round += 1;
            bench
                .local
                .block_on(&bench.runtime, batch(&bench.direct, round))
        })
    });
    group.bench_function("blkfront_blkback", |b| {
        b.iter(|| {
            round += 1;
            bench
                .local
                .block_on(&bench.runtime, batch(&*bench.front, round))
        })
    });
    group.finish();

    let time = |front: bool, round: u64| {
        let started = std::time::Instant::now();
        if front {
            bench
                .local
                .block_on(&bench.runtime, batch(&*bench.front, round));
        } else {
            bench
                .local
                .block_on(&bench.runtime, batch(&bench.direct, round));
        }
        started.elapsed().as_secs_f64()
    };
    let (mut direct, mut front) = (Vec::new(), Vec::new());
    for round in 0..50 {
        direct.push(time(false, round));
        front.push(time(true, round));
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        v[v.len() / 2]
    };
    let bytes = (REQUEST * BATCH) as f64;
    let (d, f) = (median(&mut direct), median(&mut front));
    println!(
        "64 KiB reads, 64 in flight: MemBlock {:.2} GB/s, Blkfront→Blkback {:.2} GB/s, ratio {:.2}",
        bytes / d / 1e9,
        bytes / f / 1e9,
        d / f
    );
}
