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
}

fn main() -> ExitCode {
    let keys = Keys::parse();
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
