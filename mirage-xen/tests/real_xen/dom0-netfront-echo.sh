#!/bin/sh
# Runs in dom0 (boot.sh -s): a PV domU on xenbr0 (Linux's netback) whose netfront_echo runs
# the direct stack on our Netfront; dom0 sends it 10 MiB over TCP and checks the echo.
linux_domu e 192 "$XENBR0_VIF" || { echo "@@ create failed"; exit 1; }
wait_log "## ECHO-READY\|## ECHO-END" e 3000
ping -c 3 -W 10 169.254.100.2 > /tmp/ping.txt 2>&1
echo "@@ ping=$(grep -o '[0-9]* packets transmitted, [0-9]* packets received' /tmp/ping.txt)"
dd if=/dev/urandom of=/tmp/big bs=1M count=10 2>/dev/null
echo "@@ sent-md5=$(md5sum < /tmp/big | cut -d' ' -f1)"
read t0 _ < /proc/uptime
# Every 5 s while nc runs: dom0's ARP entry for the domU and its TCP connection (queues,
# timers, retransmissions), for a stall's log.
( while sleep 5; do
    read t _ < /proc/uptime
    echo "@@ watch t=$t arp=$(grep '^169.254.100.2 ' /proc/net/arp | tr -s ' ')"
    echo "@@ watch tcp=$(grep -i ':1B58 ' /proc/net/tcp | tr -s ' ' | cut -d' ' -f3-9)"
  done ) &
watch=$!
nc 169.254.100.2 7000 < /tmp/big > /tmp/back
echo "@@ nc-rc=$?"
read t1 _ < /proc/uptime
kill $watch 2>/dev/null
echo "@@ echo-seconds=$t0 $t1"
echo "@@ back-md5=$(md5sum < /tmp/back | cut -d' ' -f1) bytes=$(wc -c < /tmp/back)"
sleep 2
tr -d '\r' < $LOG | grep "^## "
# What the kernel said of the domain's vif (netback stalls and errors), for a failure's log.
dmesg | grep -i "vif\|netback" | tail -n 8 | sed 's/^/@@ dmesg: /'
# netback's view of the rings (producer and consumer indices, events), if debugfs has it.
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
for ring in /sys/kernel/debug/xen-netback/*/io_ring_q0; do
    [ -r "$ring" ] && sed 's/^/@@ netback: /' "$ring"
done
xl destroy e 2>/dev/null
