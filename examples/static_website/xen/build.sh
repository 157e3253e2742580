#!/bin/sh
# Builds the static website as a Xen PV kernel image and writes its domain configuration:
# OUT/mir-static_website.xen and OUT/static_website.xl (one network interface on bridge xenbr0). OUT:
# this directory's `out/`, or the first argument; a second argument, AT, is where OUT's
# files will be on the Xen host when that is another machine (the .xl names the kernel
# there). KEYS, if set, are the unikernel's keys (`extra =` in the .xl), as
# KEYS="--ip 192.168.1.9 --gateways 192.168.1.1". Then, in dom0: xl create -c OUT/static_website.xl
set -e
here=$(cd "$(dirname "$0")" && pwd)
root=$here/../../..
out=$(mkdir -p "${1:-$here/out}" && cd "${1:-$here/out}" && pwd)
(cd "$here" && cargo build --profile kernel)
cp "$root/target/unikernel/x86_64-unknown-linux-gnu/kernel/mir-static_website-xen" "$out/mir-static_website.xen"
(cd "$root" && cargo run --quiet -p mirage-xen --features tool --bin mirage-xl -- \
    static_website --kind pv --memory 64 --out "$out" ${2:+--at "$2"} ${KEYS:+--extra "$KEYS"})
