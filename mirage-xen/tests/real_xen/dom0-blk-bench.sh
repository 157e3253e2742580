#!/bin/sh
# Runs in dom0 (boot.sh -s): one PV domU with two disks of the same size on the same
# filesystem, xvda served by Linux's blkback (xl's block-lite script), xvdb by our
# mirage-blkback; the domU times reads and writes on both.
modprobe xen-gntdev 2>/dev/null; modprobe xen-evtchn 2>/dev/null
for img in linux ours; do dd if=/dev/zero of=/tmp/$img.img bs=1M count=80 2>/dev/null; done
linux_domu b 160 "disk = [ 'format=raw, vdev=xvda, access=rw, script=/etc/xen/scripts/block-lite, target=/tmp/linux.img' ]" || { echo "@@ create failed"; exit 1; }
DOMID=$(xl domid b)
/host/mirage-blkback --domain "$DOMID" --image /tmp/ours.img --vdev xvdb > /tmp/backend.log 2>&1 &
BACKEND=$!
wait_log "## BENCH-DONE\|## NO-DISKS" b 3000 $BACKEND
grep "^## " $LOG
cat /tmp/backend.log
if ! kill -0 $BACKEND 2>/dev/null; then wait $BACKEND; echo "@@ backend-exit=$? (before the domU finished)"; fi
kernel_faults
wait_gone b
xl destroy b 2>/dev/null
xenstore-rm /local/domain/$DOMID/device/vbd/51728 2>/dev/null
kill $BACKEND 2>/dev/null || true  # it may have stopped with its device
