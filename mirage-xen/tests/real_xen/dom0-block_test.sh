#!/bin/sh
# Runs in dom0 (boot.sh -s): a PV domU whose disk xvda is served by Linux's blkback (xl's
# block-lite script) and driven by our Blkfront in the domU's mir-block_test.
dd if=/dev/zero of=/tmp/disk.img bs=512 count=100000 2>/dev/null
linux_domu bt 192 "disk = [ 'format=raw, vdev=xvda, access=rw, script=/etc/xen/scripts/block-lite, target=/tmp/disk.img' ]" || { echo "@@ create failed"; exit 1; }
wait_log "## BLOCK-TEST-END" bt 400
tr -d '\r' < $LOG | sed -n '/## BLOCK-TEST-BEGIN/,/## BLOCK-TEST-END/p'
grep -q "## BLOCK-TEST-END" $LOG || {
    echo "== guest console (block_test did not end)"; tail -20 $LOG
    echo "== store"; xenstore-ls -f /local/domain/1/device 2>&1 | head -30
    xenstore-ls -f /local/domain/0/backend/vbd 2>&1 | grep -v "^\S*/\(params\|script\|physical\)" | head -30
    dmesg | tail -15
}
wait_gone bt
xl destroy bt 2>/dev/null
echo "@@ backend-state-after=$(xenstore-read /local/domain/0/backend/vbd/1/51712/state 2>/dev/null || echo gone)"
