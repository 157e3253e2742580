#!/bin/sh
# Runs in dom0 (boot.sh -s): one PV domU with two disks of the same size on the same
# filesystem, xvda served by Linux's blkback (xl's block-lite script), xvdb by our
# mirage-blkback; the domU times reads and writes on both.
modprobe xen-gntdev 2>/dev/null; modprobe xen-evtchn 2>/dev/null
for img in linux ours; do dd if=/dev/zero of=/tmp/$img.img bs=1M count=80 2>/dev/null; done
cat > /tmp/b.cfg <<CFG
name = "b"
type = "pv"
kernel = "/boot/vmlinuz"
ramdisk = "/host/domu-test.cpio.gz"
extra = "console=hvc0 rdinit=/init"
memory = 160
vcpus = 1
disk = [ 'format=raw, vdev=xvda, access=rw, script=/etc/xen/scripts/block-lite, target=/tmp/linux.img' ]
on_poweroff = "destroy"
CFG
LOG=/var/log/xen/console/guest-b.log
rm -f $LOG
xl create /tmp/b.cfg || { echo "@@ create failed"; exit 1; }
DOMID=$(xl domid b)
/host/mirage-blkback --domain "$DOMID" --image /tmp/ours.img --vdev xvdb > /tmp/backend.log 2>&1 &
BACKEND=$!
i=0; until grep -q "## BENCH-DONE\|## NO-DISKS" $LOG 2>/dev/null; do
    i=$((i+1)); [ $i -gt 3000 ] && break; usleep 200000
    kill -0 $BACKEND 2>/dev/null || break
done
grep "^## " $LOG
cat /tmp/backend.log
if ! kill -0 $BACKEND 2>/dev/null; then wait $BACKEND; echo "@@ backend-exit=$? (before the domU finished)"; fi
dmesg | grep -i -E "segfault|general protection|traps:" | sed 's/^/@@ kernel: /'
i=0; while xl domid b >/dev/null 2>&1 && [ $i -lt 100 ]; do usleep 200000; i=$((i+1)); done
xl destroy b 2>/dev/null
xenstore-rm /local/domain/$DOMID/device/vbd/51728 2>/dev/null
kill $BACKEND 2>/dev/null
