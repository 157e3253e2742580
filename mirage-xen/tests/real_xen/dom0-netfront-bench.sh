#!/bin/sh
# Runs in dom0 (boot.sh -s): TCP bulk from dom0 into a receiver on xenbr0, our unikernel's
# direct stack over our Netfront (tcp_sink, 169.254.100.2) against a Linux PV domU's
# xen-netfront (169.254.100.3, busybox nc), both up at once: a small first transfer to each,
# then five interleaved rounds of 32 MiB each, timed in dom0 from the first byte until the
# receiver has closed (the host's netcat with -N: shut down after the input, then wait).
EXTRA="console=hvc0 rdinit=/init" linux_domu lx 192 \
    "vif = [ 'mac=00:16:3e:00:00:03, bridge=xenbr0, script=/etc/xen/scripts/vif-lite' ]" \
    || { echo "@@ create failed"; exit 1; }
LXLOG=$LOG
xl create /host/sink.xl >/tmp/create.out 2>&1 || echo "@@ sink-create=failed $(head -c 300 /tmp/create.out)"
LOG=/var/log/xen/console/guest-sink.log
wait_log "sink listening" sink 1500
LOG=$LXLOG
wait_log "## SINK-READY" lx 3000
send() { dd if=/dev/zero bs=64k count=$2 2>/dev/null | timeout 120 env LD_LIBRARY_PATH=/host /host/nc -N $1 5001; }
up() { cut -d' ' -f1 /proc/uptime; }
send 169.254.100.2 1; send 169.254.100.3 1
for round in 1 2 3 4 5; do
    for target in uk:169.254.100.2 lx:169.254.100.3; do
        sleep 1
        t=$(up)
        send ${target#*:} 512 || echo "@@ nc-${target%%:*}=failed"
        echo "## recv-${target%%:*}=$(awk -v a="$t" -v b="$(up)" 'BEGIN { printf "%.2f", b - a }')"
    done
done
wait_gone sink 60
tr -d '\r' < /var/log/xen/console/guest-sink.log | sed 's/^/@@ sink-console=/'
echo "@@ sink-state=$(domain_state sink)"
xl dmesg | tail -5 | sed 's/^/@@ xen: /'
xl destroy sink 2>/dev/null; xl destroy lx 2>/dev/null
