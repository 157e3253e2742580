//! The site compiled in as a table for `mirage_kv::StaticKv`, without `std`: `htdocs/`
//! (with `tls/`, which is never served) and the large file, as the Unix program's
//! `--kv-ro crunch` has them. The unikernel serves it.

/// Every file of the site, `(key, bytes)`, keys in order.
pub static SITE: &[(&str, &[u8])] = include!(concat!(env!("OUT_DIR"), "/site_table.rs"));
