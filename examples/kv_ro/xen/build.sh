#!/bin/sh
# Builds kv_ro as a Xen PV kernel image and writes its domain configuration:
# OUT/mir-kv_ro.xen, OUT/kv_ro.xl and its disk OUT/fat1.img (made from ../t by the
# tutorial's step, ../make-fat1-image.sh, when missing). OUT: this directory's `out/`, or
# the first argument; a second argument, AT, is where OUT's files will be on the Xen host
# when that is another machine (the .xl names the kernel and disk there). KEYS, if set, are
# the unikernel's keys (`extra =` in the .xl): KEYS="--kv-ro fat" reads the disk. Then, in
# dom0: xl create -c OUT/kv_ro.xl
set -e
here=$(cd "$(dirname "$0")" && pwd)
root=$here/../../..
out=$(mkdir -p "${1:-$here/out}" && cd "${1:-$here/out}" && pwd)
(cd "$here" && cargo build --profile kernel)
cp "$root/target/unikernel/x86_64-unknown-linux-gnu/kernel/mir-kv_ro-xen" "$out/mir-kv_ro.xen"
[ -e "$here/../fat1.img" ] || "$here/../make-fat1-image.sh"
[ -e "$out/fat1.img" ] || cp "$here/../fat1.img" "$out/fat1.img"
(cd "$root" && cargo run --quiet -p mirage-xen --features tool --bin mirage-xl -- \
    kv_ro --kind pv --memory 32 --out "$out" ${2:+--at "$2"} ${KEYS:+--extra "$KEYS"})
