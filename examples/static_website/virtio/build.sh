#!/bin/sh
# Builds the static website as a QEMU/KVM kernel image (the site compiled in) and writes how
# to run it: OUT/mir-static_website.virtio, OUT/static_website.sh (QEMU, its interface on
# host tap device TAP, default tap0) and OUT/static_website.xml (libvirt). OUT: this
# directory's `out/`, or the first argument; a second argument, AT, is where OUT's files will
# be on the host that runs them. Keys from KEYS (`--ip 10.0.0.2` by default; `--https true`
# serves HTTPS with the test certificate). Then: OUT/static_website.sh
set -e
here=$(cd "$(dirname "$0")" && pwd)
root=$here/../../..
out=$(mkdir -p "${1:-$here/out}" && cd "${1:-$here/out}" && pwd)
(cd "$here" && cargo build --profile kernel)
cp "$root/target/unikernel/x86_64-unknown-linux-gnu/kernel/mir-static_website-virtio" "$out/mir-static_website.virtio"
(cd "$root" && cargo run --quiet -p mirage-qemu -- \
    static_website --memory 64 --tap "${TAP:-tap0}" --out "$out" ${2:+--at "$2"} ${KEYS:+--extra "$KEYS"})
