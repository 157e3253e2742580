//! Puts the site together in `OUT_DIR`: the pages in `htdocs/` and one large file, a few MiB
//! of deterministic bytes made here rather than kept in git, then writes the `RustEmbed`
//! derive that compiles the whole site in (`Site`, included by `src/site.rs`) and the same
//! files as a table of `(key, bytes)` for `mirage_kv::StaticKv` (`SITE`, in
//! `src/site_table.rs`, what the unikernel serves).

use std::path::{Path, PathBuf};

/// The large file's key and size.
const LARGE: (&str, usize) = ("files/large.bin", 6 * 1024 * 1024);

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Bytes from a xorshift generator: no two 8-byte words repeat within the file, so a
/// misplaced chunk or range changes the checksum.
fn large(len: usize) -> Vec<u8> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// Every file under `dir`, as (key, path), keys in order.
fn walk(dir: &Path, prefix: &str, files: &mut Vec<(String, PathBuf)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let key = format!("{prefix}{}", entry.file_name().to_string_lossy());
        if entry.file_type().unwrap().is_dir() {
            walk(&entry.path(), &format!("{key}/"), files);
        } else {
            files.push((key, entry.path()));
        }
    }
}

fn main() {
    println!("cargo::rerun-if-changed=htdocs");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").unwrap());
    let site = out.join("htdocs");
    let _ = std::fs::remove_dir_all(&site);
    copy_tree(Path::new("htdocs"), &site);
    let large_path = site.join(LARGE.0);
    std::fs::create_dir_all(large_path.parent().unwrap()).unwrap();
    std::fs::write(&large_path, large(LARGE.1)).unwrap();
    let derive = format!(
        "/// The site (`htdocs/` and the large file), compiled in.\n\
         #[derive(mirage_kv::RustEmbed)]\n\
         #[folder = {:?}]\n\
         #[crate_path = \"mirage_kv::rust_embed\"]\n\
         pub struct Site;\n",
        site.display().to_string()
    );
    std::fs::write(out.join("site_embed.rs"), derive).unwrap();
    let mut files = Vec::new();
    walk(&site, "", &mut files);
    files.sort();
    let mut table = String::from("&[\n");
    for (key, path) in files {
        table.push_str(&format!(
            "    ({key:?}, include_bytes!({:?})),\n",
            path.display().to_string()
        ));
    }
    table.push(']');
    std::fs::write(out.join("site_table.rs"), table).unwrap();
}
