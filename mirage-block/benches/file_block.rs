//! `FileBlock` against raw `pread`/`pwrite` on the same page-cached file, in one run.
//!
//! Each iteration does a batch of requests inside the runtime (an application runs inside
//! it already; entering it is not a per-request cost). Prints the throughput ratio of each
//! pair at the end: `FileBlock / raw`.

use criterion::{BenchmarkId, Criterion, Throughput};
use mirage_block::{FileBlock, FileBlockOptions};
use mirage_types::Block;
use rand::{Rng, SeedableRng};
use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

const FILE_SIZE: u64 = 256 << 20;
const BATCH: usize = 64;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn image(dir: &Path) -> PathBuf {
    let path = dir.join("bench.img");
    let mut data = vec![0u8; FILE_SIZE as usize];
    rand::rngs::StdRng::seed_from_u64(1).fill(&mut data[..]);
    std::fs::write(&path, &data).unwrap();
    // Warm the page cache.
    let _ = std::fs::read(&path).unwrap();
    path
}

/// Offsets for one batch: random 4 KiB-aligned, or sequential `size`-byte steps.
fn offsets(random: bool, size: u64, batch_index: &mut u64) -> Vec<u64> {
    let slots = FILE_SIZE / size;
    if random {
        let mut rng = rand::rngs::StdRng::seed_from_u64(*batch_index);
        *batch_index += 1;
        (0..BATCH)
            .map(|_| rng.random_range(0..FILE_SIZE / 4096) * 4096)
            .collect()
    } else {
        let start = *batch_index;
        *batch_index += BATCH as u64;
        (0..BATCH as u64)
            .map(|i| (start + i) % slots * size)
            .collect()
    }
}

struct Case {
    name: &'static str,
    size: usize,
    random: bool,
    write: bool,
}

const CASES: [Case; 3] = [
    Case {
        name: "random_read_4k",
        size: 4096,
        random: true,
        write: false,
    },
    Case {
        name: "sequential_read_64k",
        size: 65536,
        random: false,
        write: false,
    },
    Case {
        name: "sequential_write_64k",
        size: 65536,
        random: false,
        write: true,
    },
];

/// One batch of `case` through raw `pread`/`pwrite`.
fn raw_batch(raw: &File, case: &Case, buf: &mut [u8], batch: &[u64]) {
    for &offset in batch {
        if case.write {
            raw.write_all_at(buf, offset).unwrap();
        } else {
            raw.read_exact_at(buf, offset).unwrap();
        }
    }
}

/// The same batch through `device`.
async fn file_block_batch(device: &FileBlock, case: &Case, buf: &mut [u8], batch: &[u64]) {
    for &offset in batch {
        if case.write {
            device.write(offset / 512, &[buf]).await.unwrap();
        } else {
            device.read(offset / 512, &mut [buf]).await.unwrap();
        }
    }
}

fn bench(c: &mut Criterion, path: &Path) {
    let rt = runtime();
    let raw: File = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .unwrap();
    let disk = rt.block_on(FileBlock::connect(path)).unwrap();
    let offloaded = rt
        .block_on(FileBlock::connect_with(
            path,
            FileBlockOptions::default().always_offload(true),
        ))
        .unwrap();
    for case in &CASES {
        let mut group = c.benchmark_group(case.name);
        group.throughput(Throughput::Bytes((case.size * BATCH) as u64));
        let mut buf = vec![0u8; case.size];
        let mut position = 0;
        group.bench_function(BenchmarkId::new("raw", case.size), |b| {
            b.iter(|| {
                raw_batch(
                    &raw,
                    case,
                    &mut buf,
                    &offsets(case.random, case.size as u64, &mut position),
                )
            })
        });
        if !case.write {
            // The kernel path FileBlock takes (vectored, RWF_NOWAIT), without FileBlock.
            let mut position = 0;
            group.bench_function(BenchmarkId::new("raw_preadv2_nowait", case.size), |b| {
                b.iter(|| {
                    for offset in offsets(case.random, case.size as u64, &mut position) {
                        let iov = libc::iovec {
                            iov_base: buf.as_mut_ptr().cast(),
                            iov_len: buf.len(),
                        };
                        let n = unsafe {
                            libc::preadv2(raw.as_raw_fd(), &iov, 1, offset as i64, libc::RWF_NOWAIT)
                        };
                        assert_eq!(n as usize, buf.len());
                    }
                })
            });
        }
        let devices: [(&str, &FileBlock); 2] =
            [("file_block", &disk), ("file_block_offloaded", &offloaded)];
        for (name, device) in devices {
            let mut position = 0;
            group.bench_function(BenchmarkId::new(name, case.size), |b| {
                b.iter(|| {
                    rt.block_on(async {
                        let batch = offsets(case.random, case.size as u64, &mut position);
                        file_block_batch(device, case, &mut buf, &batch).await
                    })
                })
            });
        }
        group.finish();
    }
    eprintln!("FileBlock request paths: {:?}", disk.io_counters());
}

/// A drift-resistant ratio: alternates one batch through raw calls and one through
/// `FileBlock` for `rounds` rounds (the order flipping each round) and returns the median of
/// the per-round ratios raw time / FileBlock time.
fn interleaved_ratio(path: &Path, case: &Case, rounds: usize) -> f64 {
    let rt = runtime();
    let raw: File = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .unwrap();
    let disk = rt.block_on(FileBlock::connect(path)).unwrap();
    let mut buf = vec![0u8; case.size];
    let mut ratios = Vec::with_capacity(rounds);
    for round in 0..rounds {
        let mut batch = round as u64 * BATCH as u64;
        let batch_offsets = offsets(case.random, case.size as u64, &mut batch);
        let mut raw_time = 0.0;
        let mut our_time = 0.0;
        for turn in 0..2 {
            let start = std::time::Instant::now();
            if (turn + round) % 2 == 0 {
                raw_batch(&raw, case, &mut buf, &batch_offsets);
                raw_time = start.elapsed().as_secs_f64();
            } else {
                rt.block_on(file_block_batch(&disk, case, &mut buf, &batch_offsets));
                our_time = start.elapsed().as_secs_f64();
            }
        }
        ratios.push(raw_time / our_time);
    }
    ratios.sort_by(f64::total_cmp);
    ratios[rounds / 2]
}

/// Drops `path` from the page cache, so that reads wait for the disk.
fn evict(path: &Path) {
    let file = File::open(path).unwrap();
    let rc = unsafe { libc::posix_fadvise(file.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED) };
    assert_eq!(rc, 0);
}

/// Reads that wait for the disk: `reads` random 4 KiB reads of an evicted file, once with
/// `pread` on the runtime thread and once through `FileBlock`, while another task counts how
/// often it gets to run (it yields after each count). Returns, for each, the mean read time
/// and the other task's count per read.
fn disk_waits(path: &Path, reads: usize) -> [(Duration, f64); 2] {
    use std::cell::Cell;
    use std::rc::Rc;
    use std::time::Instant;
    let mut results = [(Duration::ZERO, 0.0); 2];
    for (slot, through_file_block) in [false, true].into_iter().enumerate() {
        evict(path);
        let rt = runtime();
        let local = tokio::task::LocalSet::new();
        results[slot] = local.block_on(&rt, async {
            let turns = Rc::new(Cell::new(0u64));
            let running = Rc::new(Cell::new(true));
            let (t, r) = (turns.clone(), running.clone());
            let other = tokio::task::spawn_local(async move {
                while r.get() {
                    t.set(t.get() + 1);
                    tokio::task::yield_now().await;
                }
            });
            let raw = File::open(path).unwrap();
            let disk = FileBlock::connect(path).await.unwrap();
            let mut rng = rand::rngs::StdRng::seed_from_u64(99);
            let mut buf = vec![0u8; 4096];
            let start = Instant::now();
            for _ in 0..reads {
                let offset = rng.random_range(0..FILE_SIZE / 4096) * 4096;
                if through_file_block {
                    disk.read(offset / 512, &mut [&mut buf]).await.unwrap();
                } else {
                    raw.read_exact_at(&mut buf, offset).unwrap();
                    tokio::task::yield_now().await;
                }
            }
            let mean = start.elapsed() / reads as u32;
            running.set(false);
            other.await.unwrap();
            (mean, turns.get() as f64 / reads as f64)
        });
    }
    results
}

fn mean_ns(dir: &Path, group: &str, function: &str, size: usize) -> Option<f64> {
    let file = dir
        .join(group)
        .join(function)
        .join(size.to_string())
        .join("new/estimates.json");
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(file).ok()?).ok()?;
    json["mean"]["point_estimate"].as_f64()
}

fn main() {
    let output = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("criterion-file-block");
    let scratch = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let path = image(scratch.path());
    let mut c = Criterion::default()
        .output_directory(&output)
        .configure_from_args();
    bench(&mut c, &path);
    c.final_summary();
    println!("\nmedian of interleaved per-batch ratios, FileBlock against raw (1.0 = equal):");
    for case in &CASES {
        println!(
            "  {:<22} {:.2}",
            case.name,
            interleaved_ratio(&path, case, 4000)
        );
    }
    let [(raw_mean, raw_turns), (ours_mean, ours_turns)] = disk_waits(&path, 2000);
    println!(
        "\nreads that wait for the disk (4 KiB, random, evicted file): pread on the runtime thread \
         {raw_mean:?} each, another task ran {raw_turns:.1} times per read; FileBlock {ours_mean:?} \
         each, the other task ran {ours_turns:.1} times per read"
    );
    println!("\nthroughput ratio of criterion means against raw pread/pwrite (same run):");
    for case in &CASES {
        let Some(raw) = mean_ns(&output, case.name, "raw", case.size) else {
            continue;
        };
        for name in ["raw_preadv2_nowait", "file_block", "file_block_offloaded"] {
            if let Some(ours) = mean_ns(&output, case.name, name, case.size) {
                println!("  {:<22} {:<22} {:.2}", case.name, name, raw / ours);
            }
        }
    }
}
