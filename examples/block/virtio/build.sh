#!/bin/sh
# Builds block_test as a QEMU/KVM kernel image and writes how to run it: OUT/mir-block_test.virtio,
# OUT/block_test.sh (QEMU), OUT/block_test.xml (libvirt) and its disk OUT/disk.img (made when
# missing, as the tutorial's generate_disk_img.sh does). OUT: this directory's `out/`, or the
# first argument; a second argument, AT, is where OUT's files will be on the host that runs
# them. Then: OUT/block_test.sh
set -e
here=$(cd "$(dirname "$0")" && pwd)
root=$here/../../..
out=$(mkdir -p "${1:-$here/out}" && cd "${1:-$here/out}" && pwd)
(cd "$here" && cargo build --profile kernel)
cp "$root/target/unikernel/x86_64-unknown-linux-gnu/kernel/mir-block_test-virtio" "$out/mir-block_test.virtio"
[ -e "$out/disk.img" ] || dd if=/dev/zero of="$out/disk.img" count=100000 2>/dev/null
(cd "$root" && cargo run --quiet -p mirage-qemu -- \
    block_test --memory 32 --disk disk.img --out "$out" ${2:+--at "$2"})
