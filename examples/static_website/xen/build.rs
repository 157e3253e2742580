//! Links the kernel as mirage-xen-pv says a PV kernel links.

fn main() {
    let args = std::env::var("DEP_MIRAGE_XEN_PV_LINK_ARGS")
        .expect("mirage-xen-pv's build script gives the link arguments");
    for arg in args.split('\t') {
        println!("cargo:rustc-link-arg-bins={arg}");
    }
}
