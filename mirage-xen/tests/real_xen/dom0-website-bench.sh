#!/bin/sh
# Runs in dom0 (boot.sh -s): the static website unikernel (169.254.100.3, the site compiled
# in, our direct stack over our Netfront) against nginx in a Linux PV domU (169.254.100.2,
# Linux's netfront), serving the same files, both up at once on xenbr0; the host's wrk in
# dom0 asks each in turn for the 612-byte page (30 connections) and the 6 MiB file (4),
# over HTTP and then over HTTPS (a unikernel booted for each), three interleaved rounds.
EXTRA="console=hvc0 rdinit=/init quiet" linux_domu nginx 256 \
    "vif = [ 'mac=00:16:3e:00:00:02, bridge=xenbr0, script=/etc/xen/scripts/vif-lite' ]" \
    || { echo "@@ create failed"; exit 1; }
NGLOG=$LOG
wait_log "## NGINX-UP" nginx 3000
grep "## NGINX-UP" $NGLOG | tr -d '\r' | sed 's/^/@@ nginx-/'
WRK="env LD_LIBRARY_PATH=/host /host/wrk"
# bench NAME URL CONNECTIONS: wrk's requests/s and transfer/s.
bench() {
    $WRK -t1 -c$3 -d${BENCH_SECONDS:-5}s $2 > /tmp/wrk.out 2>&1
    echo "@@ $1=$(sed -n 's/^Requests\/sec: *//p' /tmp/wrk.out) $(sed -n 's/^Transfer\/sec: *//p' /tmp/wrk.out)"
    grep -i -E "error|timeout" /tmp/wrk.out | sed "s/^/@@ $1-errors=/"
}
for scheme in http https; do
    name=bench-$scheme
    port=8080; [ $scheme = https ] && port=4433
    xl create /host/$name.xl >/tmp/create.out 2>&1 || echo "@@ $name-create=failed $(head -c 300 /tmp/create.out)"
    LOG=/var/log/xen/console/guest-$name.log
    wait_log "HTTP on port" $name 1500
    # A first short run against each (ARP, the bridge learning the MACs, nginx's caches).
    for host in 169.254.100.3 169.254.100.2; do
        $WRK -t1 -c2 -d1s $scheme://$host:$port/index.html >/dev/null 2>&1
    done
    for round in 1 2 3; do
        for target in uk:169.254.100.3 lx:169.254.100.2; do
            bench "$scheme-small-${target%%:*}" $scheme://${target#*:}:$port/index.html 30
            bench "$scheme-large-${target%%:*}" $scheme://${target#*:}:$port/files/large.bin 4
        done
    done
    tr -d '\r' < $LOG | sed "s/^/@@ $name-console=/"
    echo "@@ $name-state=$(domain_state $name)"
    xl destroy $name 2>/dev/null; wait_gone $name 30
done
xl destroy nginx 2>/dev/null
