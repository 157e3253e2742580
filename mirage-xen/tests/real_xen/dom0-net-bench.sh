#!/bin/sh
# Runs in dom0 (boot.sh -s): netif throughput. A PV domU whose xen-netfront has two links:
# eth0 through Linux's netback on xenbr0 (169.254.100.1 here), eth1 through our
# mirage-netback to the tap device mirage0 (10.9.0.1). The domU times 16 MiB TCP sends
# through each; dom0's listeners take one connection each, again and again.
modprobe tun 2>/dev/null; modprobe xen-gntdev 2>/dev/null; modprobe xen-evtchn 2>/dev/null
# busybox nc -l ends with its connection, and closes early when its stdin ends: its stdin
# is a FIFO a sleeping writer holds open (a `sleep | nc` pipeline would outlive each
# connection by the sleep, and refuse the next). Each connection's byte count goes to
# /tmp/got-PORT, for the benchmark to check.
for port in 7000 7001; do
    mkfifo /tmp/hold-$port
    (while :; do nc -l -p $port < /tmp/hold-$port | wc -c >> /tmp/got-$port; done) &
    sleep 100000 > /tmp/hold-$port &
done
linux_domu nb 192 "$XENBR0_VIF" || { echo "@@ create failed"; exit 1; }
DOMID=$(xl domid nb)
/host/mirage-netback --domain "$DOMID" --vif 1 --tap mirage0 > /tmp/netback.log 2>&1 &
BACKEND=$!
i=0; until ip link show mirage0 >/dev/null 2>&1 || [ $i -gt 100 ]; do usleep 100000; i=$((i+1)); done
ip addr add 10.9.0.1/24 dev mirage0
ip link set mirage0 up
wait_log "## NET-BENCH-DONE\|## NO-ETH" nb 6000 $BACKEND
grep "^## " $LOG
for port in 7000 7001; do sed "s/^/@@ got-$port=/" /tmp/got-$port; done
kill -0 $BACKEND 2>/dev/null || { wait $BACKEND; echo "@@ backend-exit=$? (before the domU finished)"; }
echo "== backend"; tail -20 /tmp/netback.log
xl destroy nb 2>/dev/null
kernel_faults
