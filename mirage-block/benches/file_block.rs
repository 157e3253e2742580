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
                        preadv2_nowait(&raw, &mut buf, offset);
                    }
                })
            });
        }
        if !case.write {
            // io_uring at queue depth 1, as a `Block` request would use it: one read
            // submitted and waited for per request, on a ring with the file registered.
            let mut ring = UringReader::new(&raw);
            let mut position = 0;
            group.bench_function(BenchmarkId::new("raw_io_uring", case.size), |b| {
                b.iter(|| {
                    for offset in offsets(case.random, case.size as u64, &mut position) {
                        ring.read(&mut buf, offset);
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

/// One io_uring with one registered file, reading at queue depth 1.
struct UringReader {
    ring: io_uring::IoUring,
}

impl UringReader {
    fn new(file: &File) -> Self {
        let ring = io_uring::IoUring::builder()
            .setup_single_issuer()
            .setup_defer_taskrun()
            .build(8)
            .unwrap();
        ring.submitter()
            .register_files(&[file.as_raw_fd()])
            .unwrap();
        UringReader { ring }
    }

    fn read(&mut self, buf: &mut [u8], offset: u64) {
        let entry = io_uring::opcode::Read::new(
            io_uring::types::Fixed(0),
            buf.as_mut_ptr(),
            buf.len() as u32,
        )
        .offset(offset)
        .build();
        // SAFETY: `buf` outlives the request, which completes before this returns.
        unsafe { self.ring.submission().push(&entry).unwrap() };
        self.ring.submit_and_wait(1).unwrap();
        let done = self.ring.completion().next().unwrap();
        assert_eq!(done.result() as usize, buf.len());
    }
}

/// A read with `preadv2(RWF_NOWAIT)` and one `iovec`: the system call `FileBlock` makes.
fn preadv2_nowait(raw: &File, buf: &mut [u8], offset: u64) {
    let iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // SAFETY: `iov` describes `buf`, live for the call.
    let n = unsafe { libc::preadv2(raw.as_raw_fd(), &iov, 1, offset as i64, libc::RWF_NOWAIT) };
    // Pages evicted meanwhile (rare) end the call early: read the rest waiting, as
    // FileBlock would off the runtime thread.
    let done = usize::try_from(n).unwrap_or(0);
    if done < buf.len() {
        raw.read_exact_at(&mut buf[done..], offset + done as u64)
            .unwrap();
    }
}

/// Drift-resistant ratios: runs the same batch through raw calls, through `FileBlock`, and
/// for reads through bare `preadv2(RWF_NOWAIT)`, for `rounds` rounds (the order changing
/// each round), and returns the medians of the per-round ratios: FileBlock against raw,
/// and for reads `preadv2` against raw and FileBlock against `preadv2`.
fn interleaved_ratios(path: &Path, case: &Case, rounds: usize) -> Vec<(&'static str, f64)> {
    let rt = runtime();
    let raw: File = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .unwrap();
    let disk = rt.block_on(FileBlock::connect(path)).unwrap();
    let mut buf = vec![0u8; case.size];
    let contenders = if case.write { 2 } else { 3 };
    let mut ratios = [(); 3].map(|_| Vec::with_capacity(rounds));
    for round in 0..rounds {
        let mut batch = round as u64 * BATCH as u64;
        let batch_offsets = offsets(case.random, case.size as u64, &mut batch);
        let mut time = [0.0f64; 3];
        // Every order of the contenders in turn, so each pair runs first equally often (the
        // first to read a batch finds it colder in the CPU's caches).
        const ORDERS: [[usize; 3]; 6] = [
            [0, 1, 2],
            [0, 2, 1],
            [1, 0, 2],
            [1, 2, 0],
            [2, 0, 1],
            [2, 1, 0],
        ];
        let order = ORDERS[round % ORDERS.len()].into_iter();
        for contender in order.filter(|&c| c < contenders) {
            let start = std::time::Instant::now();
            match contender {
                0 => raw_batch(&raw, case, &mut buf, &batch_offsets),
                1 => rt.block_on(file_block_batch(&disk, case, &mut buf, &batch_offsets)),
                _ => {
                    for &offset in &batch_offsets {
                        preadv2_nowait(&raw, &mut buf, offset);
                    }
                }
            }
            time[contender] = start.elapsed().as_secs_f64();
        }
        ratios[0].push(time[0] / time[1]);
        if !case.write {
            ratios[1].push(time[0] / time[2]);
            ratios[2].push(time[2] / time[1]);
        }
    }
    let names = [
        "FileBlock / raw",
        "preadv2(RWF_NOWAIT) / raw",
        "FileBlock / preadv2(RWF_NOWAIT)",
    ];
    names
        .into_iter()
        .zip(ratios)
        .filter(|(_, r)| !r.is_empty())
        .map(|(name, mut r)| {
            r.sort_by(f64::total_cmp);
            (name, r[r.len() / 2])
        })
        .collect()
}

/// Drops `len` bytes of `file` at `offset` from the page cache, so that reading them waits
/// for the disk.
fn evict(file: &File, offset: u64, len: u64) {
    // SAFETY: plain advice on an open descriptor.
    let rc = unsafe {
        libc::posix_fadvise(
            file.as_raw_fd(),
            offset as i64,
            len as i64,
            libc::POSIX_FADV_DONTNEED,
        )
    };
    assert_eq!(rc, 0);
}

/// Reads that wait for the disk: `reads` random 4 KiB reads each through `pread` on the
/// runtime thread and through `FileBlock`, alternating (the order flipping each pair), each
/// read's neighbourhood evicted from the page cache just before it (so readahead from earlier
/// reads cannot serve it), while another task counts how often it gets to run (it yields
/// after each count). Returns, for each, the median read time and the other task's mean
/// count per read.
fn disk_waits(path: &Path, reads: usize) -> [(Duration, f64); 2] {
    use std::cell::Cell;
    use std::rc::Rc;
    use std::time::Instant;
    const NEIGHBOURHOOD: u64 = 1 << 20;
    let rt = runtime();
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, async {
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
        // Dirty pages cannot be evicted: write the image back first. Then drop it whole once:
        // the page cache may hold it in folios larger than a read's neighbourhood, which an
        // eviction of the neighbourhood alone would keep.
        raw.sync_all().unwrap();
        evict(&raw, 0, FILE_SIZE);
        let disk = FileBlock::connect(path).await.unwrap();
        let mut rng = rand::rngs::StdRng::seed_from_u64(99);
        let mut buf = vec![0u8; 4096];
        let mut times = [Vec::with_capacity(reads), Vec::with_capacity(reads)];
        let mut other_turns = [0u64; 2];
        for pair in 0..reads {
            for turn in 0..2 {
                let through_file_block = (turn + pair) % 2 == 1;
                let offset = rng.random_range(0..FILE_SIZE / 4096) * 4096;
                // Aligned, so it covers whole any folio readahead brought in around `offset`.
                evict(&raw, offset & !(NEIGHBOURHOOD - 1), NEIGHBOURHOOD);
                let turns_before = turns.get();
                let start = Instant::now();
                if through_file_block {
                    disk.read(offset / 512, &mut [&mut buf]).await.unwrap();
                } else {
                    raw.read_exact_at(&mut buf, offset).unwrap();
                    tokio::task::yield_now().await;
                }
                let slot = usize::from(through_file_block);
                times[slot].push(start.elapsed());
                other_turns[slot] += turns.get() - turns_before;
            }
        }
        running.set(false);
        other.await.unwrap();
        [0, 1].map(|slot| {
            times[slot].sort();
            (
                times[slot][reads / 2],
                other_turns[slot] as f64 / reads as f64,
            )
        })
    })
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
    println!("\nmedians of interleaved per-batch throughput ratios (1.0 = equal):");
    for case in &CASES {
        for (name, ratio) in interleaved_ratios(&path, case, 4000) {
            println!("  {:<22} {name:<32} {ratio:.2}", case.name);
        }
    }
    let [(raw_mean, raw_turns), (ours_mean, ours_turns)] = disk_waits(&path, 1000);
    println!(
        "\nreads that wait for the disk (4 KiB, random, evicted, interleaved; medians): pread on \
         the runtime thread {raw_mean:?}, another task ran {raw_turns:.1} times per read; \
         FileBlock {ours_mean:?} ({:.2}x), the other task ran {ours_turns:.1} times per read",
        ours_mean.as_secs_f64() / raw_mean.as_secs_f64()
    );
    println!("\nthroughput ratio of criterion means against raw pread/pwrite (same run):");
    for case in &CASES {
        let Some(raw) = mean_ns(&output, case.name, "raw", case.size) else {
            continue;
        };
        for name in [
            "raw_preadv2_nowait",
            "raw_io_uring",
            "file_block",
            "file_block_offloaded",
        ] {
            if let Some(ours) = mean_ns(&output, case.name, name, case.size) {
                println!("  {:<22} {:<22} {:.2}", case.name, name, raw / ours);
            }
        }
    }
}
