//! Compiles `t/` into the program as a table of `(key, bytes)` for `mirage_kv::StaticKv`
//! (Mirage's crunch: the files become part of the program at build time).

use std::fmt::Write;
use std::path::Path;

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("t");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files = Vec::new();
    walk(&dir, "", &mut files);
    files.sort();
    let mut table = String::from("&[\n");
    for (key, path) in files {
        writeln!(table, "    ({key:?}, include_bytes!({path:?})),").unwrap();
    }
    table.push(']');
    let out = Path::new(&std::env::var("OUT_DIR").unwrap()).join("t.rs");
    std::fs::write(out, table).unwrap();
}

/// Every file under `dir`, as (key, absolute path).
fn walk(dir: &Path, prefix: &str, files: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        let key = format!("{prefix}{name}");
        println!("cargo:rerun-if-changed={}", entry.path().display());
        if entry.file_type().unwrap().is_dir() {
            walk(&entry.path(), &format!("{key}/"), files);
        } else {
            files.push((key, entry.path().display().to_string()));
        }
    }
}
