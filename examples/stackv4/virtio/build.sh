#!/bin/sh
# Builds stackv4 as a QEMU/KVM kernel image and writes how to run it: OUT/mir-stackv4.virtio,
# OUT/stackv4.sh (QEMU, its interface on host tap device TAP, default tap0) and
# OUT/stackv4.xml (libvirt). OUT: this directory's `out/`, or the first argument; a second
# argument, AT, is where OUT's files will be on the host that runs them. Keys from KEYS
# (`--ip 10.0.0.2` is the default address, `--dhcp true` asks for a lease). Then: OUT/stackv4.sh
set -e
here=$(cd "$(dirname "$0")" && pwd)
root=$here/../../..
out=$(mkdir -p "${1:-$here/out}" && cd "${1:-$here/out}" && pwd)
(cd "$here" && cargo build --profile kernel)
cp "$root/target/unikernel/x86_64-unknown-linux-gnu/kernel/mir-stackv4-virtio" "$out/mir-stackv4.virtio"
(cd "$root" && cargo run --quiet -p mirage-qemu -- \
    stackv4 --memory 32 --tap "${TAP:-tap0}" --out "$out" ${2:+--at "$2"} ${KEYS:+--extra "$KEYS"})
