#!/bin/sh
# Runs in dom0 (boot.sh -s): a PV domU whose kernel's xen-netfront gets its link from our
# mirage-netback (Netback<Tap> in a dom0 process) to the tap device mirage0 (10.9.0.1).
modprobe tun 2>/dev/null; modprobe xen-gntdev 2>/dev/null; modprobe xen-evtchn 2>/dev/null
# busybox nc closes the connection when its stdin ends: keep it open.
sleep 600 | nc -l -p 7000 > /tmp/received &
LISTENER=$!
linux_domu n 160 || { echo "@@ create failed"; exit 1; }
DOMID=$(xl domid n)
/host/mirage-netback --domain "$DOMID" --tap mirage0 ${PCAP:+--pcap $PCAP} > /tmp/netback.log 2>&1 &
BACKEND=$!
i=0; until ip link show mirage0 >/dev/null 2>&1 || [ $i -gt 100 ]; do usleep 100000; i=$((i+1)); done
ip addr add 10.9.0.1/24 dev mirage0
ip link set mirage0 up
wait_log "## NET-READY\|## NO-ETH0" n
ping -c 3 -W 10 10.9.0.2 >/dev/null 2>&1 && echo "@@ ping-domu=ok" || echo "@@ ping-domu=failed"
wait_log "## NET-DONE" n
i=0; while kill -0 $LISTENER 2>/dev/null && [ $i -lt 100 ]; do usleep 200000; i=$((i+1)); done
echo "@@ received-md5=$(md5sum < /tmp/received | cut -d' ' -f1) bytes=$(wc -c < /tmp/received)"
grep "^## " $LOG
echo "== backend"; head -20 /tmp/netback.log; echo ...; tail -20 /tmp/netback.log
xl destroy n 2>/dev/null
xenstore-rm /local/domain/$DOMID/device/vif/0 2>/dev/null
i=0; while kill -0 $BACKEND 2>/dev/null && [ $i -lt 50 ]; do usleep 200000; i=$((i+1)); done
kill -0 $BACKEND 2>/dev/null && { echo "@@ backend-still-running"; kill $BACKEND; }
wait $BACKEND; echo "@@ backend-exit=$?"
kernel_faults
