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
}

fn main() -> ExitCode {
    let keys = Keys::parse();
    if let Some(name) = &keys.xen {
        return mirage_unix::run(over_xen(name));
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
        match Main::new(UnixConsole::new(), disk).start().await {
            Ok(totals) if totals.failed == 0 => ExitCode::SUCCESS,
            Ok(_) => ExitCode::FAILURE,
            Err(error) => {
                eprintln!("mir-block_test: {error}");
                ExitCode::FAILURE
            }
        }
    })
}

/// block_test on this domain's disk `name` through Blkfront, the store reached through
/// `/dev/xen/xenbus`.
async fn over_xen(name: &str) -> ExitCode {
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
    let outcome = Main::new(UnixConsole::new(), &disk).start().await;
    disk.disconnect().await;
    match outcome {
        Ok(totals) if totals.failed == 0 => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("mir-block_test: {error}");
            ExitCode::FAILURE
        }
    }
}
