//! `mir-kv_rw`: composes the kv_rw application with the Unix console, the stack the keys
//! choose and the store `--kv-rw` names.

use clap::Parser;
use mir_kv_rw::keys::{Keys, Store};
use mir_kv_rw::unikernel::Main;
use mir_stackv4::keys::Net;
use mir_stackv4::stack::{direct, socket};
use mirage_block::FileBlock;
use mirage_console::UnixConsole;
use mirage_kv::{DirectKv, FatFs, FatKv, MemKv};
use mirage_types::{Either, KvRw, StackV4};
use std::process::ExitCode;

/// The stores `--kv-rw` chooses between.
type AnyStore = Either<FatKv<FileBlock>, Either<DirectKv, MemKv>>;

fn main() -> ExitCode {
    let keys = Keys::parse();
    mirage_unix::run(async {
        let store = match store(&keys).await {
            Ok(store) => store,
            Err(message) => {
                eprintln!("mir-kv_rw: {message}");
                return ExitCode::FAILURE;
            }
        };
        let console = UnixConsole::new();
        match keys.stack.stack() {
            Net::Socket => {
                let stack = socket(&keys.stack);
                serve(console, stack, store, keys.port).await
            }
            Net::Direct => match direct(&console, &keys.stack).await {
                Ok(stack) => serve(console, stack, store, keys.port).await,
                Err(message) => {
                    eprintln!("mir-kv_rw: {message}");
                    ExitCode::FAILURE
                }
            },
        }
    })
}

/// The store the keys name; the error is a message for the user.
async fn store(keys: &Keys) -> Result<AnyStore, String> {
    Ok(match keys.kv_rw {
        Store::Fat => {
            let image = &keys.image;
            let fresh = !image.exists();
            if fresh {
                let file = std::fs::File::create(image)
                    .map_err(|e| format!("making {}: {e}", image.display()))?;
                file.set_len(keys.image_mib << 20)
                    .map_err(|e| format!("sizing {}: {e}", image.display()))?;
            }
            let disk = FileBlock::connect(image)
                .await
                .map_err(|e| format!("{}: {e}", image.display()))?;
            let fs = if fresh {
                FatFs::format_device(disk).await
            } else {
                FatFs::connect(disk).await
            }
            .map_err(|e| format!("{}: {e}", image.display()))?;
            Either::Left(
                FatKv::connect(fs)
                    .await
                    .map_err(|e| format!("{}: {e}", image.display()))?,
            )
        }
        Store::Direct => {
            std::fs::create_dir_all(&keys.dir)
                .map_err(|e| format!("making {}: {e}", keys.dir.display()))?;
            Either::Right(Either::Left(
                DirectKv::connect(&keys.dir)
                    .await
                    .map_err(|e| format!("{}: {e}", keys.dir.display()))?,
            ))
        }
        Store::Mem => Either::Right(Either::Right(MemKv::new())),
    })
}

async fn serve<S: StackV4, K: KvRw>(
    console: UnixConsole,
    stack: S,
    store: K,
    port: u16,
) -> ExitCode {
    match Main::new(console, stack, store, port).start().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("mir-kv_rw: {error}");
            ExitCode::FAILURE
        }
    }
}
