//! Figures for the stores, each against its baseline in the same run.
//!
//! * FAT: a sequential read of a 64 MiB file through `FatFs` over a `FileBlock`, against
//!   reading the same number of bytes from the image file with `pread`.
//! * Lookups: `FsKv::size` in a 1000-file FAT directory (answered from its index), against
//!   `FatFs::stat` (a directory scan each time).
//! * Crunch: reading a 1 MiB and a 1 KiB compiled-in value (no copy: the same time).
//! * The curve: time per 4 MiB request against its offset in a 256 MiB file, `FatFs` beside
//!   `pread`, which stays flat when reading in chunks is linear.

use criterion::{Criterion, Throughput};
use mirage_block::FileBlock;
use mirage_kv::{Crunch, FatFs, FsKv, RustEmbed};
use mirage_types::{Fs, KvRo};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::time::Instant;
use tokio::runtime::Runtime;

const FILE: usize = 64 << 20;
/// Request sizes: the whole file at once (as `KvRo::get` asks), and 4 MiB at a time (through
/// the file's extents, learnt once: `fatfs` alone would walk the cluster chain from the
/// file's start on every request).
const CHUNKS: [usize; 2] = [FILE, 4 << 20];

#[derive(RustEmbed)]
#[folder = "benches/data/"]
#[crate_path = "mirage_kv::rust_embed"]
struct Embedded;

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// An image holding `big.bin` (64 MiB) and `many/0`..`many/999`.
fn make_image(rt: &Runtime, path: &Path) {
    std::fs::File::create(path)
        .unwrap()
        .set_len(80 << 20)
        .unwrap();
    rt.block_on(async {
        let fs = FatFs::format_device(FileBlock::connect(path).await.unwrap())
            .await
            .unwrap();
        let data: Vec<u8> = (0..FILE).map(|i| (i % 251) as u8).collect();
        fs.write("big.bin", 0, &data).await.unwrap();
        for i in 0..1000 {
            fs.write(&format!("many/{i}"), 0, i.to_string().as_bytes())
                .await
                .unwrap();
        }
        fs.sync().await.unwrap();
    });
}

fn fat_read(rt: &Runtime, fs: &FatFs<FileBlock>, chunk: usize) {
    rt.block_on(async {
        for offset in (0..FILE).step_by(chunk) {
            let data = fs
                .read("big.bin", offset as u64, chunk as u64)
                .await
                .unwrap();
            assert_eq!(data.len(), chunk);
        }
    });
}

/// The baseline: the same bytes from the image file, each chunk into a new buffer as
/// `FatFs::read` returns one.
fn raw_read(file: &std::fs::File, chunk: usize) {
    for offset in (0..FILE).step_by(chunk) {
        let mut data = vec![0u8; chunk];
        file.read_exact_at(&mut data, (1 << 20) + offset as u64)
            .unwrap();
        std::hint::black_box(data);
    }
}

fn main() {
    let mut c = Criterion::default()
        .output_directory(&std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("criterion"))
        .configure_from_args();
    let rt = runtime();
    let scratch = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let image = scratch.path().join("bench.img");
    make_image(&rt, &image);
    let _ = std::fs::read(&image).unwrap(); // page cache
    let fs = rt.block_on(async {
        FatFs::connect(FileBlock::connect(&image).await.unwrap())
            .await
            .unwrap()
    });
    let raw = std::fs::File::open(&image).unwrap();

    for chunk in CHUNKS {
        let mut group =
            c.benchmark_group(format!("read_64mib_file_in_{}mib_requests", chunk >> 20));
        group.throughput(Throughput::Bytes(FILE as u64));
        group.sample_size(20);
        group.bench_function("image_pread", |b| b.iter(|| raw_read(&raw, chunk)));
        group.bench_function("fat_fs", |b| b.iter(|| fat_read(&rt, &fs, chunk)));
        group.finish();
    }

    let kv = FsKv::new(fs);
    let mut group = c.benchmark_group("lookup_in_1000_files");
    group.bench_function("fs_kv_size", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 7) % 1000;
            rt.block_on(kv.size(&format!("many/{i}"))).unwrap()
        })
    });
    group.bench_function("fat_fs_stat", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 7) % 1000;
            rt.block_on(kv.fs().stat(&format!("many/{i}"))).unwrap()
        })
    });
    group.finish();

    let crunch = Crunch::<Embedded>::new();
    let mut group = c.benchmark_group("crunch_read");
    for key in ["small.bin", "big.bin"] {
        group.bench_function(key, |b| b.iter(|| rt.block_on(crunch.get(key)).unwrap()));
    }
    group.finish();
    c.final_summary();

    // The figures of BENCHMARKS.md: interleaved rounds, medians.
    println!();
    for chunk in CHUNKS {
        let mut ratios = Vec::new();
        for round in 0..15 {
            let time = |f: &mut dyn FnMut()| {
                let start = Instant::now();
                f();
                start.elapsed().as_secs_f64()
            };
            let (mut ours, mut theirs) = (0.0, 0.0);
            for turn in 0..2 {
                if (round + turn) % 2 == 0 {
                    theirs = time(&mut || raw_read(&raw, chunk));
                } else {
                    ours = time(&mut || fat_read(&rt, kv.fs(), chunk));
                }
            }
            ratios.push(theirs / ours);
        }
        ratios.sort_by(f64::total_cmp);
        println!(
            "FatFs sequential read / image pread throughput, {} MiB requests (median of 15 interleaved): {:.2}",
            chunk >> 20,
            ratios[7]
        );
    }
    curve(&rt, scratch.path());
    let lookups = 200_000;
    let start = Instant::now();
    rt.block_on(async {
        for i in 0..lookups {
            kv.size(&format!("many/{}", i % 1000)).await.unwrap();
        }
    });
    println!(
        "FsKv lookups in a 1000-file directory: {:.0} per second",
        lookups as f64 / start.elapsed().as_secs_f64()
    );
}

/// Time per 4 MiB request against the request's offset in a 256 MiB file (median of 5 passes
/// each), `FatFs` and `pread` of the same bytes.
fn curve(rt: &Runtime, dir: &Path) {
    const BIG: usize = 256 << 20;
    const REQUEST: usize = 4 << 20;
    let path = dir.join("curve.img");
    std::fs::File::create(&path)
        .unwrap()
        .set_len((BIG + (24 << 20)) as u64)
        .unwrap();
    let fs = rt.block_on(async {
        let fs = FatFs::format_device(FileBlock::connect(&path).await.unwrap())
            .await
            .unwrap();
        // One write: appending in pieces would walk the chain once per piece.
        let data: Vec<u8> = (0..BIG).map(|i| (i % 253) as u8).collect();
        fs.write("big.bin", 0, &data).await.unwrap();
        fs.sync().await.unwrap();
        fs
    });
    let raw = std::fs::File::open(&path).unwrap();
    let _ = std::fs::read(&path).unwrap(); // page cache
    let requests = BIG / REQUEST;
    let (mut ours, mut theirs) = (vec![Vec::new(); requests], vec![Vec::new(); requests]);
    for _ in 0..5 {
        rt.block_on(async {
            for (i, times) in ours.iter_mut().enumerate() {
                let start = Instant::now();
                let data = fs
                    .read("big.bin", (i * REQUEST) as u64, REQUEST as u64)
                    .await
                    .unwrap();
                times.push(start.elapsed().as_secs_f64());
                assert_eq!(data.len(), REQUEST);
            }
        });
        for (i, times) in theirs.iter_mut().enumerate() {
            let start = Instant::now();
            let mut data = vec![0u8; REQUEST];
            raw.read_exact_at(&mut data, (i * REQUEST) as u64).unwrap();
            times.push(start.elapsed().as_secs_f64());
            std::hint::black_box(data);
        }
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2] * 1e3
    };
    let ours: Vec<f64> = ours.into_iter().map(median).collect();
    let theirs: Vec<f64> = theirs.into_iter().map(median).collect();
    println!("256 MiB file in 4 MiB requests: time per request (ms, median of 5) by offset");
    println!("{:>10} {:>10} {:>10}", "offset", "FatFs", "pread");
    for i in (0..requests).step_by(8).chain([requests - 1]) {
        println!(
            "{:>7} MiB {:>10.2} {:>10.2}",
            (i * REQUEST) >> 20,
            ours[i],
            theirs[i]
        );
    }
    let (first, last) = (
        ours[1..9].iter().sum::<f64>() / 8.0,
        ours[requests - 8..].iter().sum::<f64>() / 8.0,
    );
    println!(
        "FatFs: the last 8 requests take {:.2}x the time of the first 8 (after the first); \
         whole pass / pread's: {:.2}",
        last / first,
        theirs.iter().sum::<f64>() / ours.iter().sum::<f64>()
    );
}
