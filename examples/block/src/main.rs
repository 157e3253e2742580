//! `mir-block_test`: block_test over the Unix console and a disk image file.

use clap::Parser;
use mir_block_test::unikernel::Main;
use mirage_block::FileBlock;
use mirage_console::UnixConsole;
use std::path::PathBuf;
use std::process::ExitCode;

/// Writes, reads back and checks sectors at both ends of a disk image, as MirageOS's
/// block_test does.
#[derive(Parser)]
#[command(name = "mir-block_test", version)]
struct Keys {
    /// The disk image (or block device) to test.
    #[arg(long, default_value = "disk.img")]
    disk: PathBuf,
    /// In a Xen domain: test this domain's disk NAME (`xvda`, ...) through our own
    /// userspace block frontend (`Blkfront` over `/dev/xen`), instead of `--disk`. The
    /// kernel's xen-blkfront must not be loaded (it would own the device).
    #[arg(long, value_name = "NAME")]
    xen: Option<String>,
    /// Instead of the tutorial's ten tests, run the block conformance suite on the disk
    /// (block_test's checks, the error cases, a seeded comparison with a model). It
    /// overwrites the disk.
    #[arg(long)]
    conformance: bool,
}

/// The tutorial's ten tests on `disk`, or with `conformance` the conformance suite.
async fn check<B: mirage_types::Block>(disk: &B, conformance: bool) -> ExitCode {
    if conformance {
        let outcome = match mirage_block::conformance::run_all(disk, 1).await {
            Ok(()) => mirage_block::conformance::model_checks(disk, 2, 2_000).await,
            Err(failure) => Err(failure),
        };
        return match outcome {
            Ok(()) => {
                println!("conformance suite: passed");
                ExitCode::SUCCESS
            }
            Err(failure) => {
                println!("conformance suite: FAILED: {failure}");
                ExitCode::FAILURE
            }
        };
    }
    match Main::new(UnixConsole::new(), disk).start().await {
        Ok(totals) if totals.failed == 0 => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("mir-block_test: {error}");
            ExitCode::FAILURE
        }
    }
}

fn main() -> ExitCode {
    let keys = Keys::parse();
    if let Some(name) = &keys.xen {
        return mirage_unix::run(over_xen(name, keys.conformance));
    }
    // Only a missing file gets the hint: anything else (a directory that cannot be entered,
    // say) is reported as it is by `connect` below.
    if let Err(error) = std::fs::metadata(&keys.disk)
        && error.kind() == std::io::ErrorKind::NotFound
    {
        eprintln!(
            "mir-block_test: {} not found. Make one with ./generate_disk_img.sh \
             (dd if=/dev/zero of=disk.img count=100000), or name another with --disk PATH.",
            keys.disk.display()
        );
        return ExitCode::from(2);
    }
    mirage_unix::run(async {
        let disk = match FileBlock::connect(&keys.disk).await {
            Ok(disk) => disk,
            Err(error) => {
                eprintln!("mir-block_test: {error}");
                return ExitCode::FAILURE;
            }
        };
        check(&disk, keys.conformance).await
    })
}

/// block_test (or the conformance suite) on this domain's disk `name` through Blkfront, the store reached through
/// `/dev/xen/xenbus`.
async fn over_xen(name: &str, conformance: bool) -> ExitCode {
    use mirage_types::Device;
    let Some(devid) = mirage_xen::xl::vdev_index(name).map(mirage_xen::xl::vdev_number) else {
        eprintln!("mir-block_test: {name} is not a Xen disk name like xvda");
        return ExitCode::from(2);
    };
    let (xen, domid) = match mirage_xen::platform::linux::GuestXen::this_domain().await {
        Ok(found) => found,
        Err(error) => {
            eprintln!("mir-block_test: {error}");
            return ExitCode::FAILURE;
        }
    };
    let disk = match mirage_xen::front::Blkfront::connect(xen, domid, devid).await {
        Ok(disk) => disk,
        Err(error) => {
            eprintln!("mir-block_test: {name}: {error}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = check(&disk, conformance).await;
    disk.disconnect().await;
    outcome
}
