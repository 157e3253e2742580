#!/bin/sh
# Builds stackv4 as a Xen PV kernel image and writes its domain configuration:
# OUT/mir-stackv4.xen and OUT/stackv4.xl (one network interface on bridge xenbr0). OUT:
# this directory's `out/`, or the first argument; a second argument, AT, is where OUT's
# files will be on the Xen host when that is another machine (the .xl names the kernel
# there). KEYS, if set, are the unikernel's keys (`extra =` in the .xl), as
# KEYS="--ip 192.168.1.9 --gateways 192.168.1.1". Then, in dom0: xl create -c OUT/stackv4.xl
set -e
here=$(cd "$(dirname "$0")" && pwd)
root=$here/../../..
out=$(mkdir -p "${1:-$here/out}" && cd "${1:-$here/out}" && pwd)
(cd "$here" && cargo build --profile kernel)
cp "$root/target/unikernel/x86_64-unknown-linux-gnu/kernel/mir-stackv4-xen" "$out/mir-stackv4.xen"
(cd "$root" && cargo run --quiet -p mirage-xen --features tool --bin mirage-xl -- \
    stackv4 --kind pv --memory 32 --out "$out" ${2:+--at "$2"} ${KEYS:+--extra "$KEYS"})
