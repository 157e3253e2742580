#!/bin/sh
# Builds the hello world as a QEMU/KVM kernel image and writes how to run it:
# OUT/mir-console.virtio, OUT/console.sh (QEMU) and OUT/console.xml (libvirt) (OUT: this
# directory's `out/`, or the first argument; a second argument, AT, is where OUT's files will
# be on the host that runs them). Then: OUT/console.sh
set -e
here=$(cd "$(dirname "$0")" && pwd)
root=$here/../../..
out=$(mkdir -p "${1:-$here/out}" && cd "${1:-$here/out}" && pwd)
(cd "$here" && cargo build --profile kernel)
cp "$root/target/unikernel/x86_64-unknown-linux-gnu/kernel/mir-console-virtio" "$out/mir-console.virtio"
(cd "$root" && cargo run --quiet -p mirage-qemu -- \
    console --memory 32 --out "$out" ${2:+--at "$2"})
