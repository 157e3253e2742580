#!/bin/sh
# Runs in dom0 (boot.sh -s): a PV domU on xenbr0 (Linux's netback, xl's vif-lite script)
# whose mir-stackv4 runs the direct stack on our Netfront; dom0 pings it and sends it a
# TCP line with nc.
cat > /tmp/s.cfg <<CFG
name = "s"
type = "pv"
kernel = "/boot/vmlinuz"
ramdisk = "/host/domu-test.cpio.gz"
extra = "console=hvc0 rdinit=/init"
memory = 192
vcpus = 1
vif = [ 'mac=00:16:3e:00:00:02, bridge=xenbr0, script=/etc/xen/scripts/vif-lite' ]
on_poweroff = "destroy"
CFG
LOG=/var/log/xen/console/guest-s.log
rm -f $LOG
xl create /tmp/s.cfg || { echo "@@ create failed"; exit 1; }
i=0; until grep -q "IP address\|## STACKV4-END" $LOG 2>/dev/null; do
    i=$((i+1)); [ $i -gt 3000 ] && break; usleep 200000
    [ $((i % 25)) = 0 ] && ! xl domid s >/dev/null 2>&1 && break
done
ping -c 3 -W 10 169.254.100.2 > /tmp/ping.txt 2>&1
echo "@@ ping=$(grep -o '[0-9]* packets transmitted, [0-9]* packets received' /tmp/ping.txt)"
echo -n hello tcp world | nc -w 3 169.254.100.2 8080
sleep 3
tr -d '\r' < $LOG | sed -n '/## STACKV4-BEGIN/,$p'
xl destroy s 2>/dev/null
