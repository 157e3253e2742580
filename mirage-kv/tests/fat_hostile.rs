//! FAT images made hostile on purpose: a directory whose cluster chain loops, a size field
//! that lies, an image cut back to its boot sector. Each gives an error (or the data the
//! chain holds) quickly and in little memory.
//!
//! The binary counts its own allocations, so that a test can bound the largest one.

use mirage_block::MemBlock;
use mirage_kv::FatFs;
use mirage_types::{Fs, FsError};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The system allocator, remembering the largest single request.
struct Measured;

static LARGEST: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call to the system allocator unchanged.
unsafe impl GlobalAlloc for Measured {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LARGEST.fetch_max(new_size, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Measured = Measured;

const MIB: usize = 1024 * 1024;

/// The allocation counter is the process's: tests that read it run one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn run<F: std::future::Future>(future: F) -> F::Output {
    mirage_unix::run(future)
}

/// A 64 MiB image with directory `d` holding a few files, and `big` of 100 KB.
fn image() -> Vec<u8> {
    run(async {
        let fs = FatFs::format_device(MemBlock::new(512, 131_072).unwrap())
            .await
            .unwrap();
        for n in 0..5 {
            fs.write(&format!("d/file{n}"), 0, b"x").await.unwrap();
        }
        fs.write("big", 0, &[5u8; 100_000]).await.unwrap();
        fs.block().to_vec()
    })
}

/// The few fields of the boot sector these tests need.
struct Bpb {
    sector: usize,
    cluster_sectors: usize,
    reserved: usize,
    fats: usize,
    fat_sectors: usize,
    root_entries: usize,
    fat32: bool,
}

impl Bpb {
    fn read(image: &[u8]) -> Bpb {
        let u16_at = |at: usize| u16::from_le_bytes([image[at], image[at + 1]]) as usize;
        let fat16_sectors = u16_at(22);
        Bpb {
            sector: u16_at(11),
            cluster_sectors: image[13] as usize,
            reserved: u16_at(14),
            fats: image[16] as usize,
            fat_sectors: if fat16_sectors == 0 {
                u32::from_le_bytes(image[36..40].try_into().unwrap()) as usize
            } else {
                fat16_sectors
            },
            root_entries: u16_at(17),
            fat32: fat16_sectors == 0,
        }
    }

    fn fat(&self) -> usize {
        self.reserved * self.sector
    }

    fn data(&self) -> usize {
        (self.reserved + self.fats * self.fat_sectors) * self.sector + self.root_entries * 32
    }

    fn cluster(&self, n: usize) -> usize {
        self.data() + (n - 2) * self.cluster_sectors * self.sector
    }

    /// The root directory's entry for the 8.3 name `name`.
    fn root_entry(&self, image: &[u8], name: &[u8; 11]) -> usize {
        let (start, len) = if self.fat32 {
            let root = u32::from_le_bytes(image[44..48].try_into().unwrap()) as usize;
            (self.cluster(root), self.cluster_sectors * self.sector)
        } else {
            (self.data() - self.root_entries * 32, self.root_entries * 32)
        };
        (start..start + len)
            .step_by(32)
            .find(|&at| &image[at..at + 11] == name)
            .expect("the entry is in the root directory")
    }

    /// Points cluster `n`'s FAT entry (in every FAT) at `next`.
    fn link(&self, image: &mut [u8], n: usize, next: usize) {
        for copy in 0..self.fats {
            let fat = self.fat() + copy * self.fat_sectors * self.sector;
            if self.fat32 {
                image[fat + n * 4..fat + n * 4 + 4].copy_from_slice(&(next as u32).to_le_bytes());
            } else {
                image[fat + n * 2..fat + n * 2 + 2].copy_from_slice(&(next as u16).to_le_bytes());
            }
        }
    }
}

#[test]
fn a_directory_whose_chain_loops_is_an_error_in_milliseconds() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut image = image();
    let bpb = Bpb::read(&image);
    let entry = bpb.root_entry(&image, b"D          ");
    let first = u16::from_le_bytes([image[entry + 26], image[entry + 27]]) as usize
        | (u16::from_le_bytes([image[entry + 20], image[entry + 21]]) as usize) << 16;
    bpb.link(&mut image, first, first);
    // No end-of-directory mark: the free entries become deleted ones, so a reader goes on
    // to the next cluster, which is this one again.
    let cluster = bpb.cluster(first);
    for at in (cluster..cluster + bpb.cluster_sectors * bpb.sector).step_by(32) {
        if image[at] == 0 {
            image[at] = 0xE5;
        }
    }
    run(async {
        let fs = FatFs::connect(MemBlock::from_bytes(512, image).unwrap())
            .await
            .unwrap();
        LARGEST.store(0, Ordering::Relaxed);
        let started = Instant::now();
        for attempt in [
            fs.listdir("d").await.err(),
            fs.stat("d/nothing").await.err(),
        ] {
            match attempt {
                Some(FsError::FormatNotRecognised(why)) => assert!(why.contains("loops"), "{why}"),
                other => panic!("{other:?}"),
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "took {:?}",
            started.elapsed()
        );
        assert!(LARGEST.load(Ordering::Relaxed) < 16 * MIB);
        // The rest of the filesystem still reads.
        assert_eq!(fs.read("big", 0, 10).await.unwrap().len(), 10);
    });
}

#[test]
fn a_size_field_that_lies_allocates_no_more_than_the_device_holds() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut image = image();
    let bpb = Bpb::read(&image);
    let entry = bpb.root_entry(&image, b"BIG        ");
    image[entry + 28..entry + 32].copy_from_slice(&0xFFFF_FF00u32.to_le_bytes());
    run(async {
        let fs = FatFs::connect(MemBlock::from_bytes(512, image).unwrap())
            .await
            .unwrap();
        LARGEST.store(0, Ordering::Relaxed);
        // Either the bytes the chain holds, or an error: never a 4 GiB allocation.
        if let Ok(data) = fs.read("big", 0, u64::MAX).await {
            assert!(data.len() <= 64 * MIB, "{}", data.len());
        }
        let largest = LARGEST.load(Ordering::Relaxed);
        assert!(
            largest <= 64 * MIB + MIB,
            "allocated {} MiB at once",
            largest / MIB
        );
    });
}

#[test]
fn an_image_cut_back_to_its_boot_sector_is_not_a_filesystem() {
    let image = image();
    run(async {
        for len in [512, 4096, 1 << 20] {
            let cut = MemBlock::from_bytes(512, image[..len].to_vec()).unwrap();
            match FatFs::connect(cut).await {
                Err(FsError::FormatNotRecognised(why)) => {
                    assert!(why.contains("truncated"), "{len}: {why}")
                }
                Err(other) => panic!("{len}: {other:?}"),
                Ok(_) => panic!("{len} bytes mounted"),
            }
        }
    });
}
