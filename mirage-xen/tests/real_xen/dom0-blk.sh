#!/bin/sh
# Runs in dom0 (boot.sh -s): a PV domU whose kernel's xen-blkfront drives a disk served by
# our mirage-blkback (Blkback<FileBlock> in a dom0 process); checksums compared both ways.
up() { cut -d' ' -f1 /proc/uptime; }
res() { echo "@@ RESULT $1 $2 ${3:-}"; }
modprobe xen-gntdev 2>/dev/null; modprobe xen-evtchn 2>/dev/null
IMG=/tmp/disk.img
dd if=/dev/zero of=$IMG bs=1M count=20 2>/dev/null
dd if=/dev/urandom of=/tmp/first bs=1M count=1 2>/dev/null
dd if=/tmp/first of=$IMG bs=1M conv=notrunc 2>/dev/null
echo "@@ dom0-pattern-md5=$(md5sum < /tmp/first | cut -d' ' -f1)"
linux_domu t 160 || { res create FAIL; exit 1; }
DOMID=$(xl domid t)
/host/mirage-blkback --domain "$DOMID" --image $IMG --vdev xvdb ${TRACE:+--trace} > /tmp/backend.log 2>&1 &
BACKEND=$!
wait_log "## DONE\|## NO-DISK" t 900 $BACKEND
# Stopped while the guest reads: the backend closes the device and removes its nodes, and
# the guest's reads fail rather than hang.
if wait_log "## STOP-ME" t 100 $BACKEND; then
    sleep 1
    kill -TERM $BACKEND
    i=0; while kill -0 $BACKEND 2>/dev/null && [ $i -lt 50 ]; do usleep 200000; i=$((i+1)); done
    kill -0 $BACKEND 2>/dev/null && { echo "@@ backend-ignored-sigterm"; kill -9 $BACKEND; }
    wait $BACKEND; echo "@@ backend-exit=$?"
    echo "@@ store-after-stop=$(xenstore-ls -f /local/domain/0/backend/mirage-vbd/$DOMID /local/domain/$DOMID/device/vbd/51728 2>/dev/null | wc -l)"
    wait_log "## io-after-stop" t 200
fi
echo "== backend"; head -50 /tmp/backend.log
if ! grep -q "## DONE" $LOG; then
    # What Xen says of the event channels (pending and masked bits), for the failure report.
    xl debug-keys e; xl dmesg | tail -40
fi
echo "== guest"; grep "^## " $LOG
echo "== store"; xenstore-ls -f /local/domain/0/backend/mirage-vbd 2>/dev/null | head -20
wait_gone t
xl destroy t 2>/dev/null
xenstore-rm /local/domain/$DOMID/device/vbd 2>/dev/null
kill -0 $BACKEND 2>/dev/null && { echo "@@ backend-still-running"; kill -9 $BACKEND; }
echo "@@ image-md5=$(dd if=$IMG bs=1M skip=1 count=16 2>/dev/null | md5sum | cut -d' ' -f1)"
# The .xl files mirage-xl writes for the tutorial's examples, in each form, through xl's own
# parser (a dry run: -n).
for kind in pv pvh legacy; do
    mkdir -p /tmp/xl-$kind
    for name in console block_test kv_ro_crunch kv_ro stackv4; do
        /host/mirage-xl $name --out /tmp/xl-$kind --kind $kind >/dev/null
        touch /tmp/xl-$kind/mir-$name.xen /tmp/xl-$kind/disk.img /tmp/xl-$kind/fat1.img
        if xl create -n /tmp/xl-$kind/$name.xl >/tmp/xl.out 2>&1; then
            echo "@@ xl-n-$kind-$name=ok"
        else
            echo "@@ xl-n-$kind-$name=failed: $(tr '\n' ' ' < /tmp/xl.out | head -c 300)"
        fi
    done
done
kernel_faults
