#!/bin/sh
# Runs in dom0 (boot.sh -s): sequential reads of a 64 MiB disk (an image file served by
# dom0's kernel blkback), five times: by our unikernel through our Blkfront (blk_read,
# timed by its own clock), then by a Linux PV domU through Linux's blkfront (dd with
# O_DIRECT, timed in the domU).
dd if=/dev/zero of=/tmp/br.img bs=1M count=64 2>/dev/null
dd if=/dev/zero of=/tmp/lr.img bs=1M count=64 2>/dev/null
xl create /host/blkread.xl >/tmp/create.out 2>&1 || echo "@@ blkread-create=failed $(head -c 300 /tmp/create.out)"
wait_gone blkread 600
tr -d '\r' < /var/log/xen/console/guest-blkread.log | sed 's/^/@@ blkread-console=/'
xl destroy blkread 2>/dev/null
linux_domu lr 160 "disk = [ 'format=raw, vdev=xvda, access=rw, script=/etc/xen/scripts/block-lite, target=/tmp/lr.img' ]" || { echo "@@ create failed"; exit 1; }
wait_log "## BLKREAD-DONE\|## NO-DISK" lr 3000
grep "^## \|dd:" $LOG
wait_gone lr 30; xl destroy lr 2>/dev/null
