#!/bin/sh
# Runs in dom0 (boot.sh -s): a PV domU whose kernel's xen-netfront gets its link from our
# mirage-netback (Netback<Tap> in a dom0 process) to the tap device mirage0 (10.9.0.1).
modprobe tun 2>/dev/null; modprobe xen-gntdev 2>/dev/null; modprobe xen-evtchn 2>/dev/null
cat > /tmp/n.cfg <<CFG
name = "n"
type = "pv"
kernel = "/boot/vmlinuz"
ramdisk = "/host/domu-test.cpio.gz"
extra = "console=hvc0 rdinit=/init"
memory = 160
vcpus = 1
on_poweroff = "destroy"
CFG
LOG=/var/log/xen/console/guest-n.log
rm -f $LOG
# busybox nc closes the connection when its stdin ends: keep it open.
sleep 600 | nc -l -p 7000 > /tmp/received &
LISTENER=$!
xl create /tmp/n.cfg || { echo "@@ create failed"; exit 1; }
DOMID=$(xl domid n)
/host/mirage-netback --domain "$DOMID" --tap mirage0 ${PCAP:+--pcap $PCAP} > /tmp/netback.log 2>&1 &
BACKEND=$!
i=0; until ip link show mirage0 >/dev/null 2>&1 || [ $i -gt 100 ]; do usleep 100000; i=$((i+1)); done
ip addr add 10.9.0.1/24 dev mirage0
ip link set mirage0 up
wait_for() { i=0; until grep -q "$1" $LOG 2>/dev/null; do
    i=$((i+1)); [ $i -gt 3000 ] && return 1; usleep 200000
    [ $((i % 25)) = 0 ] && ! xl domid n >/dev/null 2>&1 && return 1; done; }
wait_for "## NET-READY\|## NO-ETH0"
ping -c 3 -W 10 10.9.0.2 >/dev/null 2>&1 && echo "@@ ping-domu=ok" || echo "@@ ping-domu=failed"
wait_for "## NET-DONE"
i=0; while kill -0 $LISTENER 2>/dev/null && [ $i -lt 100 ]; do usleep 200000; i=$((i+1)); done
echo "@@ received-md5=$(md5sum < /tmp/received | cut -d' ' -f1) bytes=$(wc -c < /tmp/received)"
grep "^## " $LOG
echo "== backend"; head -20 /tmp/netback.log; echo ...; tail -20 /tmp/netback.log
xl destroy n 2>/dev/null
xenstore-rm /local/domain/$DOMID/device/vif/0 2>/dev/null
i=0; while kill -0 $BACKEND 2>/dev/null && [ $i -lt 50 ]; do usleep 200000; i=$((i+1)); done
kill -0 $BACKEND 2>/dev/null && { echo "@@ backend-still-running"; kill $BACKEND; }
wait $BACKEND; echo "@@ backend-exit=$?"
dmesg | grep -i -E "segfault|general protection|traps:" | sed 's/^/@@ kernel: /'
