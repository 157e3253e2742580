//! Links the kernel as mirage-virtio says a QEMU kernel links.

fn main() {
    let args = std::env::var("DEP_MIRAGE_VIRTIO_LINK_ARGS")
        .expect("mirage-virtio's build script gives the link arguments");
    for arg in args.split('\t') {
        println!("cargo:rustc-link-arg-bins={arg}");
    }
}
