#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

use mirage_block::FileBlock;
use mirage_kv::{Crunch, DirectKv, FatFs, FsKv, RustEmbed};
use mirage_types::{Either, FsError, KvError};
use std::path::Path;

/// The example's `t/` directory, compiled in.
#[derive(RustEmbed)]
#[folder = "t/"]
#[crate_path = "mirage_kv::rust_embed"]
pub struct Static1;

/// Which store `--kv-ro` chooses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum KvRoKind {
    /// `t/` compiled into the binary.
    Crunch,
    /// `t/` read live from the current directory.
    Direct,
    /// `fat1.img` in the current directory, made by `make-fat1-image.sh`.
    Fat,
}

/// The store, whichever was chosen: Mirage's `if_impl`, dispatched statically.
pub type Store = Either<Crunch<Static1>, Either<DirectKv, FsKv<FatFs<FileBlock>>>>;

/// Why the store could not be opened.
#[derive(Debug)]
pub enum OpenError {
    /// The directory for `direct`.
    Direct(KvError),
    /// The image for `fat`.
    Fat(FsError),
}

impl std::fmt::Display for OpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OpenError::Direct(error) => write!(f, "t/: {error}"),
            OpenError::Fat(error) => write!(
                f,
                "fat1.img: {error} (make it with ./make-fat1-image.sh in examples/kv_ro)"
            ),
        }
    }
}

impl std::error::Error for OpenError {}

/// Opens the store `kind` names, relative to `dir`.
pub async fn open(kind: KvRoKind, dir: &Path) -> Result<Store, OpenError> {
    Ok(match kind {
        KvRoKind::Crunch => Either::Left(Crunch::new()),
        KvRoKind::Direct => Either::Right(Either::Left(
            DirectKv::connect(dir.join("t"))
                .await
                .map_err(OpenError::Direct)?,
        )),
        KvRoKind::Fat => {
            let block = FileBlock::connect(dir.join("fat1.img"))
                .await
                .map_err(|e| OpenError::Fat(e.into()))?;
            let fs = FatFs::connect(block).await.map_err(OpenError::Fat)?;
            Either::Right(Either::Right(FsKv::new(fs)))
        }
    })
}
