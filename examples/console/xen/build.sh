#!/bin/sh
# Builds the hello world as a Xen PV kernel image and writes its domain configuration:
# OUT/mir-console.xen and OUT/console.xl (OUT: this directory's `out/`, or the first
# argument; a second argument, AT, is where OUT's files will be on the Xen host when that is
# another machine: the .xl names the kernel there). Then, in dom0: xl create -c OUT/console.xl
set -e
here=$(cd "$(dirname "$0")" && pwd)
root=$here/../../..
out=$(mkdir -p "${1:-$here/out}" && cd "${1:-$here/out}" && pwd)
(cd "$here" && cargo build --profile kernel)
cp "$root/target/unikernel/x86_64-unknown-linux-gnu/kernel/mir-console-xen" "$out/mir-console.xen"
(cd "$root" && cargo run --quiet -p mirage-xen --features tool --bin mirage-xl -- \
    console --kind pv --memory 32 --out "$out" ${2:+--at "$2"})
