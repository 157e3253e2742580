#!/bin/sh
# Builds kv_ro_crunch as a Xen PV kernel image and writes its domain configuration:
# OUT/mir-kv_ro_crunch.xen and OUT/kv_ro_crunch.xl. OUT:
# this directory's `out/`, or the first argument; a second argument, AT, is where OUT's
# files will be on the Xen host when that is another machine (the .xl names the kernel
# there). KEYS, if set, are the unikernel's keys (`extra =` in the .xl), as
# KEYS="--count 3". Then, in dom0: xl create -c OUT/kv_ro_crunch.xl
set -e
here=$(cd "$(dirname "$0")" && pwd)
root=$here/../../..
out=$(mkdir -p "${1:-$here/out}" && cd "${1:-$here/out}" && pwd)
(cd "$here" && cargo build --profile kernel)
cp "$root/target/unikernel/x86_64-unknown-linux-gnu/kernel/mir-kv_ro_crunch-xen" "$out/mir-kv_ro_crunch.xen"
(cd "$root" && cargo run --quiet -p mirage-xen --features tool --bin mirage-xl -- \
    kv_ro_crunch --kind pv --memory 32 --out "$out" ${2:+--at "$2"} ${KEYS:+--extra "$KEYS"})
