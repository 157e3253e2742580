//! Hands a unikernel's build script the arguments a QEMU kernel links with
//! (`DEP_MIRAGE_VIRTIO_LINK_ARGS`, separated by tabs), and links this crate's own test
//! kernels (its examples) with them.

fn main() {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("link.ld");
    println!("cargo:rerun-if-changed={}", script.display());
    let args = link_args(&script.display().to_string());
    println!("cargo:link-args={}", args.join("\t"));
    for arg in args {
        println!("cargo:rustc-link-arg-examples={arg}");
    }
}

/// How a QEMU kernel links: no C start files or libraries, static, at the linker script's
/// addresses.
fn link_args(script: &str) -> [String; 6] {
    [
        "-nostartfiles".into(),
        "-nostdlib".into(),
        "-static".into(),
        "-Wl,--build-id=none".into(),
        "-Wl,-z,max-page-size=4096".into(),
        format!("-Wl,-T,{script}"),
    ]
}
