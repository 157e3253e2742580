#!/bin/sh
# Runs in dom0 (boot.sh -s): a PV domU whose disk xvda is served by Linux's blkback (xl's
# block-lite script) and driven by our Blkfront in the domU's mir-block_test.
dd if=/dev/zero of=/tmp/disk.img bs=512 count=100000 2>/dev/null
dd if=/dev/zero of=/tmp/disk2.img bs=512 count=20000 2>/dev/null
DISK="format=raw, access=rw, script=/etc/xen/scripts/block-lite"
linux_domu bt 192 "disk = [ '$DISK, vdev=xvda, target=/tmp/disk.img', '$DISK, vdev=xvdb, target=/tmp/disk2.img' ]" || { echo "@@ create failed"; exit 1; }
wait_log "## CONFORMANCE" bt 1500
tr -d '\r' < $LOG | sed -n '/## BLOCK-TEST-BEGIN/,/## BLOCK-TEST-END/p'
tr -d '\r' < $LOG | grep "^conformance suite\|^## CONFORMANCE"
grep -q "## CONFORMANCE" $LOG || {
    echo "== guest console (block_test did not end)"; tail -20 $LOG
    echo "== store"; xenstore-ls -f /local/domain/1/device 2>&1 | head -30
    xenstore-ls -f /local/domain/0/backend/vbd 2>&1 | grep -v "^\S*/\(params\|script\|physical\)" | head -30
    dmesg | tail -15
}
wait_gone bt
xl destroy bt 2>/dev/null
echo "@@ backend-state-after=$(xenstore-read /local/domain/0/backend/vbd/1/51712/state 2>/dev/null || echo gone)"
