#!/bin/sh
# Builds kv_ro as a QEMU/KVM kernel image and writes how to run it: OUT/mir-kv_ro.virtio,
# OUT/kv_ro.sh (QEMU), OUT/kv_ro.xml (libvirt) and its disk OUT/fat1.img (the tutorial's
# t/ as FAT, made when missing). OUT: this directory's `out/`, or the first argument; a
# second argument, AT, is where OUT's files will be on the host that runs them. Keys from
# KEYS (default `--kv-ro fat`). Then: OUT/kv_ro.sh
set -e
here=$(cd "$(dirname "$0")" && pwd)
root=$here/../../..
out=$(mkdir -p "${1:-$here/out}" && cd "${1:-$here/out}" && pwd)
(cd "$here" && cargo build --profile kernel)
cp "$root/target/unikernel/x86_64-unknown-linux-gnu/kernel/mir-kv_ro-virtio" "$out/mir-kv_ro.virtio"
[ -e "$here/../fat1.img" ] || "$here/../make-fat1-image.sh"
[ -e "$out/fat1.img" ] || cp "$here/../fat1.img" "$out/fat1.img"
(cd "$root" && cargo run --quiet -p mirage-qemu -- \
    kv_ro --memory 32 --disk fat1.img --out "$out" ${2:+--at "$2"} --extra "${KEYS:---kv-ro fat}")
