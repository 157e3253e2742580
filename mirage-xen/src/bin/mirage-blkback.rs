//! `mirage-blkback`: serves a disk image to a Xen guest from a dom0 process, as QEMU's
//! `qdisk` does: `Blkback<FileBlock>` over `/dev/xen/gntdev` and `/dev/xen/evtchn`, the
//! store through xenstored's socket. It makes the device's store nodes itself (the guest's
//! own blkfront then finds it), serves one connection after another, and stops when the
//! device is removed, the guest goes away, or it is asked to (`SIGTERM`, `SIGINT`): it then
//! closes the device (a guest's requests fail rather than wait) and removes its store nodes.
//! Restarted while a guest is still connected to an earlier run, it closes that stale
//! connection instead of waiting for it.

use clap::Parser;
use mirage_block::FileBlock;
use mirage_xen::back::{Blkback, Started, remove_device, start_device};
use mirage_xen::platform::Store;
use mirage_xen::platform::linux::{LinuxXen, XsSocket};
use mirage_xen::tool::serve_until_stopped;
use mirage_xen::xenbus::DevicePaths;
use mirage_xen::xenstore::XsClient;
use std::path::PathBuf;
use std::process::ExitCode;

/// Serves a disk image to a Xen guest's block frontend.
#[derive(Parser)]
#[command(name = "mirage-blkback", version)]
struct Args {
    /// The guest's domain id.
    #[arg(long)]
    domain: u16,
    /// The disk image.
    #[arg(long)]
    image: PathBuf,
    /// The guest's device: `xvda`, `xvdb`, ... .
    #[arg(long, default_value = "xvdb")]
    vdev: String,
    /// Serve it read-only.
    #[arg(long)]
    read_only: bool,
    /// Print each transfer the guest asks for (to stderr).
    #[arg(long)]
    trace: bool,
}

/// A block device that prints each transfer.
struct Traced<B>(B);

#[mirage_types::async_trait(?Send)]
impl<B: mirage_types::Device> mirage_types::Device for Traced<B> {
    async fn disconnect(&self) {
        self.0.disconnect().await
    }
}

#[mirage_types::async_trait(?Send)]
impl<B: mirage_types::Block> mirage_types::Block for Traced<B> {
    async fn get_info(&self) -> mirage_types::BlockInfo {
        self.0.get_info().await
    }

    async fn read(
        &self,
        sector: u64,
        buffers: &mut [&mut [u8]],
    ) -> Result<(), mirage_types::BlockError> {
        let bytes: usize = buffers.iter().map(|b| b.len()).sum();
        let result = self.0.read(sector, buffers).await;
        eprintln!("read {bytes} bytes at sector {sector}: {result:?}");
        result
    }

    async fn write(&self, sector: u64, buffers: &[&[u8]]) -> Result<(), mirage_types::BlockError> {
        let bytes: usize = buffers.iter().map(|b| b.len()).sum();
        let result = self.0.write(sector, buffers).await;
        eprintln!("write {bytes} bytes at sector {sector}: {result:?}");
        result
    }

    async fn flush(&self) -> Result<(), mirage_types::BlockError> {
        let result = self.0.flush().await;
        eprintln!("flush: {result:?}");
        result
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    let Some(devid) = mirage_xen::xl::vdev_index(&args.vdev).map(mirage_xen::xl::vdev_number)
    else {
        eprintln!(
            "mirage-blkback: {} is not a device name like xvdb",
            args.vdev
        );
        return ExitCode::from(2);
    };
    match mirage_unix::run(serve(&args, devid)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("mirage-blkback: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: &Args, devid: u32) -> Result<(), String> {
    let options = mirage_block::FileBlockOptions::default().read_only(args.read_only);
    let disk = FileBlock::connect_with(&args.image, options)
        .await
        .map_err(|e| format!("{}: {e}", args.image.display()))?;
    let store = XsClient::new(XsSocket::connect(None).await.map_err(|e| e.to_string())?);
    let xen = LinuxXen::new(store.clone());
    // Our own backend directory type, so that dom0's kernel blkback leaves it alone; the
    // guest's blkfront only follows its `backend` node.
    let paths = DevicePaths {
        frontend_id: args.domain,
        frontend: format!("/local/domain/{}/device/vbd/{devid}", args.domain),
        backend_id: 0,
        backend: format!("/local/domain/0/backend/mirage-vbd/{}/{devid}", args.domain),
    };
    let mode = if args.read_only { "r" } else { "w" };
    let started = start_device(&store, &paths, &[("mode", mode), ("type", "mirage")])
        .await
        .map_err(|e| e.to_string())?;
    match started {
        Started::Made => store
            .write(
                0,
                &format!("{}/virtual-device", paths.frontend),
                &devid.to_string(),
            )
            .await
            .map_err(|e| e.to_string())?,
        Started::ClosedStale(state) => eprintln!(
            "mirage-blkback: domain {}'s {} was {state:?} with an earlier backend: closed that \
             connection (the guest's requests on it fail); a Linux guest takes the disk again \
             only once it is attached anew",
            args.domain, args.vdev
        ),
    }
    println!(
        "mirage-blkback: serving {} to domain {} as {} ({devid})",
        args.image.display(),
        args.domain,
        args.vdev
    );
    let outcome = if args.trace {
        let blkback = Blkback::new(xen, paths.clone(), Traced(disk));
        serve_until_stopped(blkback.run(), || blkback.stop(), "device").await
    } else {
        let blkback = Blkback::new(xen, paths.clone(), disk);
        serve_until_stopped(blkback.run(), || blkback.stop(), "device").await
    };
    let removed = remove_device(&store, &paths)
        .await
        .map_err(|e| e.to_string());
    outcome.and(removed)
}
