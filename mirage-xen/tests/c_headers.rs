//! Every ABI struct's size and field offsets, and the ring sizes, against Xen's own C headers
//! (Debian's libxen-dev), compiled and run here.

use mirage_xen::abi::blkif::*;
use mirage_xen::abi::console::XenconsInterface;
use mirage_xen::abi::grant::GrantEntryV1;
use mirage_xen::abi::netif::*;
use mirage_xen::abi::sring::{SringHeader, ring_size};
use mirage_xen::abi::xs_wire::{XenstoreDomainInterface, XsdSockmsg};
use std::collections::BTreeMap;
use std::mem::{offset_of, size_of};
use std::process::Command;

/// (C expression, its value in Rust).
fn ours() -> Vec<(&'static str, usize)> {
    let blk_entry = size_of::<BlkifRequest>().max(size_of::<BlkifResponse>());
    let tx_entry = size_of::<NetifTxRequest>().max(size_of::<NetifTxResponse>());
    let rx_entry = size_of::<NetifRxRequest>().max(size_of::<NetifRxResponse>());
    vec![
        (
            "sizeof(struct blkif_sring) - sizeof(union blkif_sring_entry)",
            size_of::<SringHeader>(),
        ),
        (
            "offsetof(struct blkif_sring, req_prod)",
            offset_of!(SringHeader, req_prod),
        ),
        (
            "offsetof(struct blkif_sring, req_event)",
            offset_of!(SringHeader, req_event),
        ),
        (
            "offsetof(struct blkif_sring, rsp_prod)",
            offset_of!(SringHeader, rsp_prod),
        ),
        (
            "offsetof(struct blkif_sring, rsp_event)",
            offset_of!(SringHeader, rsp_event),
        ),
        (
            "offsetof(struct blkif_sring, pvt)",
            offset_of!(SringHeader, pvt),
        ),
        (
            "offsetof(struct blkif_sring, ring)",
            size_of::<SringHeader>(),
        ),
        (
            "sizeof(struct blkif_request_segment)",
            size_of::<BlkifRequestSegment>(),
        ),
        (
            "offsetof(struct blkif_request_segment, gref)",
            offset_of!(BlkifRequestSegment, gref),
        ),
        (
            "offsetof(struct blkif_request_segment, first_sect)",
            offset_of!(BlkifRequestSegment, first_sect),
        ),
        (
            "offsetof(struct blkif_request_segment, last_sect)",
            offset_of!(BlkifRequestSegment, last_sect),
        ),
        ("sizeof(struct blkif_request)", size_of::<BlkifRequest>()),
        (
            "offsetof(struct blkif_request, operation)",
            offset_of!(BlkifRequest, operation),
        ),
        (
            "offsetof(struct blkif_request, nr_segments)",
            offset_of!(BlkifRequest, nr_segments),
        ),
        (
            "offsetof(struct blkif_request, handle)",
            offset_of!(BlkifRequest, handle),
        ),
        (
            "offsetof(struct blkif_request, id)",
            offset_of!(BlkifRequest, id),
        ),
        (
            "offsetof(struct blkif_request, sector_number)",
            offset_of!(BlkifRequest, sector_number),
        ),
        (
            "offsetof(struct blkif_request, seg)",
            offset_of!(BlkifRequest, seg),
        ),
        (
            "sizeof(struct blkif_request_discard)",
            size_of::<BlkifRequestDiscard>(),
        ),
        (
            "offsetof(struct blkif_request_discard, flag)",
            offset_of!(BlkifRequestDiscard, flag),
        ),
        (
            "offsetof(struct blkif_request_discard, id)",
            offset_of!(BlkifRequestDiscard, id),
        ),
        (
            "offsetof(struct blkif_request_discard, nr_sectors)",
            offset_of!(BlkifRequestDiscard, nr_sectors),
        ),
        (
            "sizeof(struct blkif_request_indirect)",
            size_of::<BlkifRequestIndirect>(),
        ),
        (
            "offsetof(struct blkif_request_indirect, indirect_op)",
            offset_of!(BlkifRequestIndirect, indirect_op),
        ),
        (
            "offsetof(struct blkif_request_indirect, nr_segments)",
            offset_of!(BlkifRequestIndirect, nr_segments),
        ),
        (
            "offsetof(struct blkif_request_indirect, id)",
            offset_of!(BlkifRequestIndirect, id),
        ),
        (
            "offsetof(struct blkif_request_indirect, sector_number)",
            offset_of!(BlkifRequestIndirect, sector_number),
        ),
        (
            "offsetof(struct blkif_request_indirect, handle)",
            offset_of!(BlkifRequestIndirect, handle),
        ),
        (
            "offsetof(struct blkif_request_indirect, indirect_grefs)",
            offset_of!(BlkifRequestIndirect, indirect_grefs),
        ),
        ("sizeof(struct blkif_response)", size_of::<BlkifResponse>()),
        (
            "offsetof(struct blkif_response, id)",
            offset_of!(BlkifResponse, id),
        ),
        (
            "offsetof(struct blkif_response, operation)",
            offset_of!(BlkifResponse, operation),
        ),
        (
            "offsetof(struct blkif_response, status)",
            offset_of!(BlkifResponse, status),
        ),
        ("sizeof(union blkif_sring_entry)", blk_entry),
        ("__CONST_RING_SIZE(blkif, 4096)", ring_size(4096, blk_entry)),
        ("__CONST_RING_SIZE(blkif, 8192)", ring_size(8192, blk_entry)),
        (
            "BLKIF_MAX_SEGMENTS_PER_REQUEST",
            BLKIF_MAX_SEGMENTS_PER_REQUEST,
        ),
        (
            "BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST",
            BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST,
        ),
        ("BLKIF_OP_INDIRECT", BLKIF_OP_INDIRECT as usize),
        (
            "BLKIF_OP_FLUSH_DISKCACHE",
            BLKIF_OP_FLUSH_DISKCACHE as usize,
        ),
        ("VDISK_READONLY", VDISK_READONLY as usize),
        (
            "sizeof(struct netif_tx_request)",
            size_of::<NetifTxRequest>(),
        ),
        (
            "offsetof(struct netif_tx_request, gref)",
            offset_of!(NetifTxRequest, gref),
        ),
        (
            "offsetof(struct netif_tx_request, offset)",
            offset_of!(NetifTxRequest, offset),
        ),
        (
            "offsetof(struct netif_tx_request, flags)",
            offset_of!(NetifTxRequest, flags),
        ),
        (
            "offsetof(struct netif_tx_request, id)",
            offset_of!(NetifTxRequest, id),
        ),
        (
            "offsetof(struct netif_tx_request, size)",
            offset_of!(NetifTxRequest, size),
        ),
        (
            "sizeof(struct netif_tx_response)",
            size_of::<NetifTxResponse>(),
        ),
        (
            "offsetof(struct netif_tx_response, status)",
            offset_of!(NetifTxResponse, status),
        ),
        (
            "sizeof(struct netif_rx_request)",
            size_of::<NetifRxRequest>(),
        ),
        (
            "offsetof(struct netif_rx_request, id)",
            offset_of!(NetifRxRequest, id),
        ),
        (
            "offsetof(struct netif_rx_request, gref)",
            offset_of!(NetifRxRequest, gref),
        ),
        (
            "sizeof(struct netif_rx_response)",
            size_of::<NetifRxResponse>(),
        ),
        (
            "offsetof(struct netif_rx_response, offset)",
            offset_of!(NetifRxResponse, offset),
        ),
        (
            "offsetof(struct netif_rx_response, flags)",
            offset_of!(NetifRxResponse, flags),
        ),
        (
            "offsetof(struct netif_rx_response, status)",
            offset_of!(NetifRxResponse, status),
        ),
        (
            "sizeof(struct netif_extra_info)",
            size_of::<NetifExtraInfo>(),
        ),
        ("sizeof(union netif_tx_sring_entry)", tx_entry),
        ("sizeof(union netif_rx_sring_entry)", rx_entry),
        (
            "__CONST_RING_SIZE(netif_tx, 4096)",
            ring_size(4096, tx_entry),
        ),
        (
            "__CONST_RING_SIZE(netif_rx, 4096)",
            ring_size(4096, rx_entry),
        ),
        ("NETTXF_more_data", NETTXF_MORE_DATA as usize),
        ("NETTXF_extra_info", NETTXF_EXTRA_INFO as usize),
        ("NETRXF_more_data", NETRXF_MORE_DATA as usize),
        ("XEN_NETIF_NR_SLOTS_MIN", XEN_NETIF_NR_SLOTS_MIN),
        (
            "sizeof(struct xencons_interface)",
            size_of::<XenconsInterface>(),
        ),
        (
            "offsetof(struct xencons_interface, out)",
            offset_of!(XenconsInterface, output),
        ),
        (
            "offsetof(struct xencons_interface, in_cons)",
            offset_of!(XenconsInterface, in_cons),
        ),
        (
            "offsetof(struct xencons_interface, in_prod)",
            offset_of!(XenconsInterface, in_prod),
        ),
        (
            "offsetof(struct xencons_interface, out_cons)",
            offset_of!(XenconsInterface, out_cons),
        ),
        (
            "offsetof(struct xencons_interface, out_prod)",
            offset_of!(XenconsInterface, out_prod),
        ),
        ("sizeof(struct xsd_sockmsg)", size_of::<XsdSockmsg>()),
        (
            "offsetof(struct xsd_sockmsg, req_id)",
            offset_of!(XsdSockmsg, req_id),
        ),
        (
            "offsetof(struct xsd_sockmsg, tx_id)",
            offset_of!(XsdSockmsg, tx_id),
        ),
        (
            "offsetof(struct xsd_sockmsg, len)",
            offset_of!(XsdSockmsg, len),
        ),
        (
            "sizeof(struct xenstore_domain_interface)",
            size_of::<XenstoreDomainInterface>(),
        ),
        (
            "offsetof(struct xenstore_domain_interface, rsp)",
            offset_of!(XenstoreDomainInterface, rsp),
        ),
        (
            "offsetof(struct xenstore_domain_interface, req_cons)",
            offset_of!(XenstoreDomainInterface, req_cons),
        ),
        (
            "offsetof(struct xenstore_domain_interface, rsp_prod)",
            offset_of!(XenstoreDomainInterface, rsp_prod),
        ),
        (
            "offsetof(struct xenstore_domain_interface, server_features)",
            offset_of!(XenstoreDomainInterface, server_features),
        ),
        (
            "offsetof(struct xenstore_domain_interface, connection)",
            offset_of!(XenstoreDomainInterface, connection),
        ),
        (
            "offsetof(struct xenstore_domain_interface, error)",
            offset_of!(XenstoreDomainInterface, error),
        ),
        (
            "XS_WRITE",
            mirage_xen::abi::xs_wire::kind::XS_WRITE as usize,
        ),
        (
            "XS_DIRECTORY_PART",
            mirage_xen::abi::xs_wire::kind::XS_DIRECTORY_PART as usize,
        ),
        (
            "XENSTORE_PAYLOAD_MAX",
            mirage_xen::abi::xs_wire::XENSTORE_PAYLOAD_MAX,
        ),
        ("sizeof(grant_entry_v1_t)", size_of::<GrantEntryV1>()),
        (
            "offsetof(grant_entry_v1_t, domid)",
            offset_of!(GrantEntryV1, domid),
        ),
        (
            "offsetof(grant_entry_v1_t, frame)",
            offset_of!(GrantEntryV1, frame),
        ),
        (
            "GTF_readonly",
            mirage_xen::abi::grant::GTF_READONLY as usize,
        ),
        (
            "XenbusStateConnected",
            mirage_xen::abi::xenbus::XenbusState::Connected as usize,
        ),
    ]
}

#[test]
fn layouts_match_xens_own_headers() {
    if !std::path::Path::new("/usr/include/xen/io/blkif.h").exists() {
        eprintln!("skipped: Xen's headers are not installed (apt-get install libxen-dev)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let fields = ours();
    let mut program = String::from(
        "#include <stdint.h>\n#include <stddef.h>\n#include <stdio.h>\n#include <xen/xen.h>\n\
         #include <xen/grant_table.h>\n#include <xen/io/ring.h>\n#include <xen/io/blkif.h>\n\
         #include <xen/io/netif.h>\n#include <xen/io/console.h>\n#include <xen/io/xs_wire.h>\n\
         #include <xen/io/xenbus.h>\nint main(void) {\n",
    );
    for (expression, _) in &fields {
        program.push_str(&format!(
            "  printf(\"%s=%zu\\n\", \"{expression}\", (size_t)({expression}));\n"
        ));
    }
    program.push_str("  return 0;\n}\n");
    let source = dir.path().join("layout.c");
    std::fs::write(&source, program).unwrap();
    let binary = dir.path().join("layout");
    let compiled = Command::new("cc")
        .arg("-o")
        .arg(&binary)
        .arg(&source)
        .output()
        .expect("a C compiler");
    assert!(
        compiled.status.success(),
        "{}",
        String::from_utf8_lossy(&compiled.stderr)
    );
    let output = Command::new(&binary).output().unwrap();
    let theirs: BTreeMap<String, usize> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let (name, value) = line.rsplit_once('=').unwrap();
            (name.to_owned(), value.parse().unwrap())
        })
        .collect();
    let mut wrong = Vec::new();
    for (expression, value) in &fields {
        if theirs[*expression] != *value {
            wrong.push(format!(
                "{expression}: C {} Rust {value}",
                theirs[*expression]
            ));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    assert_eq!(theirs.len(), fields.len());
}
