//! The site compiled in (`htdocs/` plus a large file the build script makes), and a way to
//! write it out as a directory for `--kv-ro direct` and the FAT image.

use std::path::Path;
use std::prelude::rust_2024::*;

include!(concat!(env!("OUT_DIR"), "/site_embed.rs"));

/// The key of the large file (several MiB of deterministic bytes, made at build time).
pub const LARGE_FILE: &str = "files/large.bin";

/// Writes every file of the compiled-in site under `dir` (made if missing); returns how many.
pub fn write_site(dir: &Path) -> std::io::Result<usize> {
    let mut count = 0;
    for name in Site::iter() {
        let file = Site::get(&name).expect("a listed file is there");
        let path = dir.join(name.as_ref());
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, &file.data)?;
        count += 1;
    }
    Ok(count)
}
