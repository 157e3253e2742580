#!/bin/sh
# Runs in dom0 (boot.sh -s): a PV domU whose disk xvda is served by Linux's blkback (xl's
# block-lite script) and driven by our Blkfront in the domU's mir-block_test.
dd if=/dev/zero of=/tmp/disk.img bs=512 count=100000 2>/dev/null
cat > /tmp/bt.cfg <<CFG
name = "bt"
type = "pv"
kernel = "/boot/vmlinuz"
ramdisk = "/host/domu-test.cpio.gz"
extra = "console=hvc0 rdinit=/init"
memory = 192
vcpus = 1
disk = [ 'format=raw, vdev=xvda, access=rw, script=/etc/xen/scripts/block-lite, target=/tmp/disk.img' ]
on_poweroff = "destroy"
CFG
LOG=/var/log/xen/console/guest-bt.log
rm -f $LOG
xl create /tmp/bt.cfg || { echo "@@ create failed"; exit 1; }
i=0; until grep -q "## BLOCK-TEST-END" $LOG 2>/dev/null; do
    i=$((i+1)); [ $i -gt 400 ] && break; usleep 200000
    [ $((i % 25)) = 0 ] && ! xl domid bt >/dev/null 2>&1 && break
done
tr -d '\r' < $LOG | sed -n '/## BLOCK-TEST-BEGIN/,/## BLOCK-TEST-END/p'
grep -q "## BLOCK-TEST-END" $LOG || {
    echo "== guest console (block_test did not end)"; tail -20 $LOG
    echo "== store"; xenstore-ls -f /local/domain/1/device 2>&1 | head -30
    xenstore-ls -f /local/domain/0/backend/vbd 2>&1 | grep -v "^\S*/\(params\|script\|physical\)" | head -30
    dmesg | tail -15
}
i=0; while xl domid bt >/dev/null 2>&1 && [ $i -lt 100 ]; do usleep 200000; i=$((i+1)); done
xl destroy bt 2>/dev/null
echo "@@ backend-state-after=$(xenstore-read /local/domain/0/backend/vbd/1/51712/state 2>/dev/null || echo gone)"
