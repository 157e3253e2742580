#!/bin/sh
# Builds block_test as a Xen PV kernel image and writes its domain configuration:
# OUT/mir-block_test.xen, OUT/block_test.xl and its disk OUT/disk.img (made when missing,
# as the tutorial's generate_disk_img.sh does). OUT: this directory's `out/`, or the first
# argument; a second argument, AT, is where OUT's files will be on the Xen host when that is
# another machine (the .xl names the kernel there). Then, in dom0: xl create -c OUT/block_test.xl
set -e
here=$(cd "$(dirname "$0")" && pwd)
root=$here/../../..
out=$(mkdir -p "${1:-$here/out}" && cd "${1:-$here/out}" && pwd)
(cd "$here" && cargo build --profile kernel)
cp "$root/target/unikernel/x86_64-unknown-linux-gnu/kernel/mir-block_test-xen" "$out/mir-block_test.xen"
[ -e "$out/disk.img" ] || dd if=/dev/zero of="$out/disk.img" count=100000 2>/dev/null
(cd "$root" && cargo run --quiet -p mirage-xen --features tool --bin mirage-xl -- \
    block_test --kind pv --memory 32 --out "$out" ${2:+--at "$2"})
