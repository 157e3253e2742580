//! The store `--kv-ro` chooses, opened.

use crate::keys::KvRoKind;
use crate::site::Site;
use mirage_block::FileBlock;
use mirage_kv::{Crunch, DirectKv, FatFs, FsKv};
use mirage_types::Either;
use std::path::Path;
use std::prelude::rust_2024::*;

/// The store, whichever was chosen: Mirage's `if_impl`, dispatched statically.
pub type Store = Either<Crunch<Site>, Either<DirectKv, FsKv<FatFs<FileBlock>>>>;

/// Opens the store `kind` names: the compiled-in site, directory `htdocs`, or FAT `image`.
/// The error is a message naming what failed.
pub async fn open(kind: KvRoKind, htdocs: &Path, image: &Path) -> Result<Store, String> {
    Ok(match kind {
        KvRoKind::Crunch => Either::Left(Crunch::new()),
        KvRoKind::Direct => Either::Right(Either::Left(
            DirectKv::connect(htdocs)
                .await
                .map_err(|e| format!("{}: {e}", htdocs.display()))?,
        )),
        KvRoKind::Fat => {
            let failed = |e: &dyn std::fmt::Display| {
                format!(
                    "{}: {e} (make it with make-fat-image.sh in examples/static_website)",
                    image.display()
                )
            };
            let block = FileBlock::connect(image).await.map_err(|e| failed(&e))?;
            let fs = FatFs::connect(block).await.map_err(|e| failed(&e))?;
            Either::Right(Either::Right(FsKv::new(fs)))
        }
    })
}
