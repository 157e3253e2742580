//! `FileBlock` against real files and (where the machine allows) real loop block devices.

use mirage_block::{FileBlock, FileBlockOptions};
use mirage_types::{Block, BlockError};
use std::os::fd::AsRawFd;
use std::path::Path;
use std::process::Command;

fn run<F: std::future::Future>(future: F) -> F::Output {
    mirage_unix::run(future)
}

#[test]
fn a_trailing_partial_sector_is_not_addressable() {
    let image = tempfile::NamedTempFile::new().unwrap();
    image.as_file().set_len(3 * 512 + 100).unwrap();
    run(async {
        let disk = FileBlock::connect(image.path()).await.unwrap();
        assert_eq!(disk.get_info().await.size_sectors, 3);
        let mut sector = [0u8; 512];
        assert!(matches!(
            disk.read(3, &mut [&mut sector]).await,
            Err(BlockError::OutOfRange {
                start: 3,
                sectors: 1,
                size: 3
            })
        ));
    });
}

#[test]
fn missing_files_and_directories_are_clear_errors() {
    run(async {
        let error = FileBlock::connect("/nonexistent/disk.img")
            .await
            .unwrap_err();
        assert!(
            error.to_string().contains("/nonexistent/disk.img"),
            "{error}"
        );
        // The operating system's error survives: its kind, and itself as the source.
        assert_eq!(error.kind(), mirage_types::ErrorKind::NotFound);
        let source = std::error::Error::source(&error).expect("a source");
        let io = source
            .downcast_ref::<mirage_types::IoError>()
            .map(|e| e.io_kind())
            .or_else(|| source.downcast_ref::<std::io::Error>().map(|e| e.kind()));
        assert_eq!(io, Some(std::io::ErrorKind::NotFound));
        let dir = tempfile::tempdir().unwrap();
        let error = FileBlock::connect(dir.path()).await.unwrap_err();
        assert!(error.to_string().contains("Is a directory"), "{error}");
        let error = FileBlock::connect("/dev/null").await.unwrap_err();
        assert!(
            error.to_string().contains("neither a regular file"),
            "{error}"
        );
    });
}

#[test]
fn writes_reach_the_file_and_read_only_writes_move_nothing() {
    let image = tempfile::NamedTempFile::new().unwrap();
    image.as_file().set_len(16 * 512).unwrap();
    run(async {
        let disk = FileBlock::connect(image.path()).await.unwrap();
        let (a, b) = (vec![1u8; 512], vec![2u8; 1024]);
        disk.write(5, &[&a, &b]).await.unwrap();
        disk.flush().await.unwrap();
        let on_disk = std::fs::read(image.path()).unwrap();
        assert_eq!(&on_disk[5 * 512..6 * 512], &a[..]);
        assert_eq!(&on_disk[6 * 512..8 * 512], &b[..]);

        let options = FileBlockOptions::default().read_only(true);
        let read_only = FileBlock::connect_with(image.path(), options)
            .await
            .unwrap();
        assert_eq!(
            read_only.write(0, &[&[9u8; 512]]).await,
            Err(BlockError::IsReadOnly)
        );
        assert_eq!(std::fs::read(image.path()).unwrap(), on_disk);
    });
}

#[test]
fn falls_back_to_read_only_when_writing_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("locked.img");
    std::fs::write(&path, vec![7u8; 4 * 512]).unwrap();
    let mut perms = std::fs::metadata(&path).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o444);
    std::fs::set_permissions(&path, perms).unwrap();
    // Root ignores permission bits, but not the immutable attribute.
    let locked = Command::new("chattr").arg("+i").arg(&path).status();
    if std::fs::OpenOptions::new().write(true).open(&path).is_ok() {
        eprintln!("skipped: cannot make a file unwritable here (no chattr, not ext4?)");
        return;
    }
    run(async {
        let disk = FileBlock::connect(&path).await.unwrap();
        assert!(!disk.get_info().await.read_write);
        let mut sector = [0u8; 512];
        disk.read(3, &mut [&mut sector]).await.unwrap();
        assert_eq!(sector, [7u8; 512]);
        assert_eq!(
            disk.write(0, &[&[0u8; 512]]).await,
            Err(BlockError::IsReadOnly)
        );
    });
    if matches!(locked, Ok(status) if status.success()) {
        Command::new("chattr")
            .arg("-i")
            .arg(&path)
            .status()
            .unwrap();
    }
    assert_eq!(std::fs::read(&path).unwrap(), vec![7u8; 4 * 512]);
}

/// Drops `path` from the page cache, so the next read must wait for the disk.
fn evict(path: &Path) {
    let file = std::fs::File::open(path).unwrap();
    file.sync_all().unwrap();
    let rc = unsafe { libc::posix_fadvise(file.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED) };
    assert_eq!(rc, 0);
}

#[test]
fn cached_reads_stay_inline_and_cold_reads_go_off_thread() {
    // On a disk's filesystem (a tmpfs /tmp would keep every transfer inline).
    let image = tempfile::NamedTempFile::new_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let data: Vec<u8> = (0..256 * 512).map(|i| (i % 251) as u8).collect();
    std::fs::write(image.path(), &data).unwrap();
    run(async {
        let disk = FileBlock::connect(image.path()).await.unwrap();
        let mut buf = vec![0u8; 64 * 512];
        disk.read(0, &mut [&mut buf]).await.unwrap();
        assert_eq!(buf, data[..64 * 512]);
        assert_eq!(disk.io_counters().inline, 1);

        // Eviction is best effort in the kernel (a page under writeback stays): try a few
        // times until a read finds the disk cold.
        for _ in 0..20 {
            evict(image.path());
            disk.read(128, &mut [&mut buf]).await.unwrap();
            assert_eq!(buf, data[128 * 512..192 * 512]);
            if disk.io_counters().offloaded > 0 {
                break;
            }
        }
        assert_eq!(disk.io_counters().offloaded, 1, "{:?}", disk.io_counters());
    });
}

#[test]
fn direct_io_checks_alignment() {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let path = dir.path().join("direct.img");
    std::fs::write(&path, vec![3u8; 64 * 512]).unwrap();
    run(async {
        let options = FileBlockOptions::default().direct(true);
        let disk = match FileBlock::connect_with(&path, options).await {
            Ok(disk) => disk,
            Err(error) => {
                eprintln!("skipped: {error}");
                return;
            }
        };
        let mut storage = vec![0u8; 3 * 512];
        let misaligned_at = (1..512)
            .find(|i| !(storage.as_ptr() as usize + i).is_multiple_of(512))
            .unwrap();
        let misaligned = &mut storage[misaligned_at..misaligned_at + 512];
        assert!(matches!(
            disk.read(0, &mut [misaligned]).await,
            Err(BlockError::Misaligned {
                index: 0,
                alignment: 512
            })
        ));
        let mut aligned = vec![0u8; 8192 + 4096];
        let skip = aligned.as_ptr().align_offset(4096);
        let window = &mut aligned[skip..skip + 8192];
        disk.read(8, &mut [window]).await.unwrap();
        assert!(aligned[skip..skip + 8192].iter().all(|&b| b == 3));
        assert_eq!(disk.io_counters().inline, 0);
    });
}

/// A real block device: a loop device over a file, with 512 and 4096-byte logical sectors.
#[test]
fn loop_block_devices_report_their_own_geometry() {
    for sector_size in [512u32, 4096] {
        let image = tempfile::NamedTempFile::new_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
        image.as_file().set_len(1 << 20).unwrap();
        let output = Command::new("losetup")
            .args([
                "--find",
                "--show",
                "--sector-size",
                &sector_size.to_string(),
            ])
            .arg(image.path())
            .output();
        let device = match output {
            Ok(out) if out.status.success() => {
                String::from_utf8(out.stdout).unwrap().trim().to_owned()
            }
            other => {
                eprintln!("skipped: cannot attach a loop device here (needs root): {other:?}");
                return;
            }
        };
        let result = std::panic::catch_unwind(|| {
            run(async {
                let disk = FileBlock::connect(&device).await.unwrap();
                let info = disk.get_info().await;
                assert_eq!(info.sector_size, sector_size);
                assert_eq!(info.size_sectors, (1 << 20) / u64::from(sector_size));
                mirage_block::conformance::run_all(&disk, 9).await.unwrap();
            })
        });
        Command::new("losetup")
            .args(["-d", &device])
            .status()
            .unwrap();
        result.unwrap();
    }
}

#[test]
fn a_read_only_loop_device_is_reported_read_only() {
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: loop devices need root");
        return;
    }
    let image = tempfile::NamedTempFile::new_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    image.as_file().set_len(1 << 20).unwrap();
    let output = Command::new("losetup")
        .args(["--find", "--show", "--read-only"])
        .arg(image.path())
        .output();
    let device = match output {
        Ok(out) if out.status.success() => String::from_utf8(out.stdout).unwrap().trim().to_owned(),
        other => {
            eprintln!("skipped: cannot make a loop device here: {other:?}");
            return;
        }
    };
    let result = std::panic::catch_unwind(|| {
        run(async {
            let disk = FileBlock::connect(&device).await.unwrap();
            assert!(!disk.get_info().await.read_write, "{device} is read-only");
            let sector = vec![1u8; 512];
            assert_eq!(disk.write(0, &[&sector]).await, Err(BlockError::IsReadOnly));
            let mut back = vec![0u8; 512];
            disk.read(0, &mut [&mut back]).await.unwrap();
        })
    });
    Command::new("losetup")
        .args(["-d", &device])
        .status()
        .unwrap();
    result.unwrap();
}

#[test]
fn a_file_on_tmpfs_is_memory_every_transfer_inline() {
    let shm = Path::new("/dev/shm");
    let is_tmpfs = Command::new("stat")
        .args(["-f", "-c", "%T", "/dev/shm"])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "tmpfs");
    if !is_tmpfs {
        eprintln!("skipped: /dev/shm is not a tmpfs here");
        return;
    }
    let image = tempfile::NamedTempFile::new_in(shm).unwrap();
    image.as_file().set_len(1024 * 512).unwrap();
    run(async {
        let disk = FileBlock::connect(image.path()).await.unwrap();
        let data: Vec<u8> = (0..64 * 512).map(|i| (i % 253) as u8).collect();
        disk.write(10, &[&data[..512], &data[512..]]).await.unwrap();
        let (mut a, mut b) = (vec![0u8; 1024], vec![0u8; 64 * 512 - 1024]);
        disk.read(10, &mut [&mut a, &mut b]).await.unwrap();
        assert_eq!([a, b].concat(), data);
        // Past the end: refused before anything moves, as on any FileBlock.
        assert!(disk.read(1023, &mut [&mut vec![0u8; 1024]]).await.is_err());
        let counters = disk.io_counters();
        assert_eq!(
            (counters.inline, counters.offloaded),
            (2, 0),
            "{counters:?}"
        );
        // Asked to offload, it does.
        let offloading = FileBlock::connect_with(
            image.path(),
            FileBlockOptions::default().always_offload(true),
        )
        .await
        .unwrap();
        let mut c = vec![0u8; 512];
        offloading.read(10, &mut [&mut c]).await.unwrap();
        assert_eq!(c, data[..512]);
        assert_eq!(offloading.io_counters().offloaded, 1);
    });
}
