#!/bin/sh
# Runs in dom0 (boot.sh -s): a PV domU on xenbr0 (Linux's netback) whose netfront_echo runs
# the direct stack on our Netfront; dom0 sends it 10 MiB over TCP and checks the echo.
cat > /tmp/e.cfg <<CFG
name = "e"
type = "pv"
kernel = "/boot/vmlinuz"
ramdisk = "/host/domu-test.cpio.gz"
extra = "console=hvc0 rdinit=/init"
memory = 192
vcpus = 1
vif = [ 'mac=00:16:3e:00:00:02, bridge=xenbr0, script=/etc/xen/scripts/vif-lite' ]
on_poweroff = "destroy"
CFG
LOG=/var/log/xen/console/guest-e.log
rm -f $LOG
xl create /tmp/e.cfg || { echo "@@ create failed"; exit 1; }
i=0; until grep -q "## ECHO-READY\|## ECHO-END" $LOG 2>/dev/null; do
    i=$((i+1)); [ $i -gt 3000 ] && break; usleep 200000
    [ $((i % 25)) = 0 ] && ! xl domid e >/dev/null 2>&1 && break
done
ping -c 3 -W 10 169.254.100.2 > /tmp/ping.txt 2>&1
echo "@@ ping=$(grep -o '[0-9]* packets transmitted, [0-9]* packets received' /tmp/ping.txt)"
dd if=/dev/urandom of=/tmp/big bs=1M count=10 2>/dev/null
echo "@@ sent-md5=$(md5sum < /tmp/big | cut -d' ' -f1)"
read t0 _ < /proc/uptime
nc 169.254.100.2 7000 < /tmp/big > /tmp/back
echo "@@ nc-rc=$?"
read t1 _ < /proc/uptime
echo "@@ echo-seconds=$t0 $t1"
echo "@@ back-md5=$(md5sum < /tmp/back | cut -d' ' -f1) bytes=$(wc -c < /tmp/back)"
sleep 2
tr -d '\r' < $LOG | grep "^## "
xl destroy e 2>/dev/null
