#!/bin/sh
# Runs in dom0 (boot.sh -s): our PV unikernels booted by `xl create` from their generated
# .xl files (in /host with the kernels): mir-console's hello world with each console line's
# time, mir-block_test on a disk, a panicking kernel, a stack overflow, heap exhaustion,
# an idle kernel's CPU time, the smallest memory that boots, and a Linux PV domU's time to
# /init as the yardstick.
up() { read u _ < /proc/uptime; echo "$u"; }
# run_kernel NAME SECONDS: boots /host/NAME.xl and waits (at most SECONDS) until the domain
# has powered off or crashed (kept by on_crash = 'preserve'); then prints its console, its
# state and its shutdown reason, and destroys what is left.
run_kernel() {
    xl create /host/$1.xl >/tmp/create.out 2>&1 || echo "@@ $1-create=failed $(head -c 300 /tmp/create.out)"
    state=$(wait_end $1 $2)
    tr -d '\r' < /var/log/xen/console/guest-$1.log | sed "s/^/@@ $1-console=/"
    echo "@@ $1-state=$state"
    echo "@@ $1-shutdown=$(grep -o 'shut down, reason code [0-9]*' /var/log/xen/xl-$1.log | head -1)"
    xl destroy $1 2>/dev/null
}

# mir-console: created paused, its console attached, then unpaused; each line timed.
T0=$(up)
xl create -p /host/console.xl >/tmp/create.out 2>&1 || { echo "@@ console-create=failed $(cat /tmp/create.out)"; }
(sleep 120 | xl console console | while IFS= read -r line; do
    read u _ < /proc/uptime; echo "@@ console-line=$u $line"; done > /tmp/console.out) &
usleep 300000
xl unpause console
wait_gone console 60
sleep 1
echo "@@ console-t0=$T0"
tr -d '\r' < /tmp/console.out
echo "@@ console-shutdown=$(grep -o 'shut down, reason code [0-9]*' /var/log/xen/xl-console.log | head -1)"

# block_test: its disk from its .xl, served by dom0's kernel blkback to our Blkfront.
dd if=/dev/zero of=/tmp/disk.img count=100000 2>/dev/null
run_kernel block_test 300

# kv_ro_crunch: YES! from its two compiled-in stores, each line timed as it reaches the
# console log (polled every 50 ms); `--count 3` from `extra =`, then poweroff.
LOG=/var/log/xen/console/guest-kv_ro_crunch.log
xl create /host/kv_ro_crunch.xl >/tmp/create.out 2>&1 || echo "@@ kv_ro_crunch-create=failed $(head -c 300 /tmp/create.out)"
seen=0; i=0
while [ $i -lt 1200 ]; do
    lines=$(wc -l < $LOG 2>/dev/null || echo 0)
    if [ "$lines" -gt "$seen" ]; then
        read u _ < /proc/uptime
        tr -d '\r' < $LOG | sed -n "$((seen + 1)),${lines}p" | sed "s/^/@@ kv_ro_crunch-line=$u /"
        seen=$lines
    fi
    xl domid kv_ro_crunch >/dev/null 2>&1 || [ $((i % 20)) != 0 ] || break
    usleep 50000; i=$((i+1))
done
wait_gone kv_ro_crunch 30
echo "@@ kv_ro_crunch-shutdown=$(grep -o 'shut down, reason code [0-9]*' /var/log/xen/xl-kv_ro_crunch.log | head -1)"

# kv_ro: YES! twice from crunch, then from the FAT disk /host/fat1.img (dom0's blkback to
# our Blkfront).
cp /host/fat1.img /tmp/fat1.img
run_kernel kv_ro-crunch 120
run_kernel kv_ro-fat 120

# stackv4_session NAME [flood] [IPV6]: boots /host/NAME.xl (the direct stack on our
# Netfront, on dom0's bridge xenbr0, 169.254.100.1), waits for its address, pings it (and
# its IPv6 address, if given) and sends it a UDP line (the host's netcat: busybox's has no
# -u) and a TCP line, then prints its console.
stackv4_session() {
    LOG=/var/log/xen/console/guest-$1.log
    xl create /host/$1.xl >/tmp/create.out 2>&1 || echo "@@ $1-create=failed $(head -c 300 /tmp/create.out)"
    wait_log "IP address" $1 600
    address=$(sed -n 's/^IP address: \([0-9.]*\).*/\1/p' $LOG | head -1)
    ping -c 3 -W 10 $address > /tmp/ping.txt 2>&1
    echo "@@ $1-ping=$(grep -o '[0-9]* packets transmitted, [0-9]* packets received' /tmp/ping.txt)"
    echo "@@ $1-rtt=$(grep -o 'min/avg/max = [0-9./]* ms' /tmp/ping.txt)"
    sed "s/^/@@ $1-ping-line=/" /tmp/ping.txt
    if [ -n "$3" ]; then
        ping -6 -c 3 -W 10 $3 > /tmp/ping6.txt 2>&1
        echo "@@ $1-ping6=$(grep -o '[0-9]* packets transmitted, [0-9]* packets received' /tmp/ping6.txt)"
        sed "s/^/@@ $1-ping6-line=/" /tmp/ping6.txt
    fi
    echo -n hello udp world | LD_LIBRARY_PATH=/host /host/nc -u -w 1 $address 53
    echo -n hello tcp world | nc -w 3 $address 8080
    sleep 2
    tr -d '\r' < $LOG | sed "s/^/@@ $1-console=/"
    [ -z "$2" ] || flood $1 $address
    xl destroy $1 2>/dev/null
}
# flood NAME ADDRESS: 200 connections at once, each sending a line after 5 s (more than the
# unikernel's TCP memory holds at once: the rest wait for SYNs sent again); then how many
# were served within 60 s, and whether a connection after them still is.
flood() {
    LOG=/var/log/xen/console/guest-$1.log
    for i in $(seq 200); do ( (sleep 5; echo f) | nc $2 8080 >/dev/null 2>&1 & ); done
    i=0; until [ "$(grep -c 'read: 2 "f' $LOG)" -ge 200 ] || [ $i -gt 600 ]; do usleep 100000; i=$((i+1)); done
    echo "@@ $1-flood-served=$(grep -c 'read: 2 "f' $LOG)"
    echo -n after the flood | nc -w 10 $2 8080
    sleep 1
    echo "@@ $1-after-flood=$(tr -d '\r' < $LOG | grep -c 'read: 15 "after the flood"')"
}
# IPv6 beside IPv4 on the bridge: the unikernels' fixed addresses are fd00::2 and fd00::3.
ip -6 addr add fd00::1/64 dev xenbr0 || echo "@@ dom0-ipv6=failed"
# With its addresses from `extra =`.
stackv4_session stackv4 flood fd00::2
# By DHCP from dnsmasq on the bridge. (`--no-ping`: dnsmasq's check that an address is
# free pings it before the offer, which leaves dom0's neighbour entry for it failed, and
# dom0 then drops its own first ping while it asks again.)
LD_LIBRARY_PATH=/host /host/dnsmasq --interface=xenbr0 --bind-interfaces --port=0 --no-ping \
    --dhcp-range=169.254.100.50,169.254.100.99,255.255.255.0,1h \
    --dhcp-option=option:router,169.254.100.1 --dhcp-leasefile=/tmp/dnsmasq.leases \
    --pid-file=/tmp/dnsmasq.pid --user=root --log-facility=/tmp/dnsmasq.log \
    || echo "@@ dnsmasq=failed"
stackv4_session stackv4-dhcp
kill $(cat /tmp/dnsmasq.pid) 2>/dev/null
sed 's/^/@@ dnsmasq-log=/' /tmp/dnsmasq.log 2>/dev/null | tail -5
# A bad key: the domain crashes with the reason on its console.
run_kernel stackv4-badkey 60

# website_session NAME URL CURL_OPTIONS: the static website unikernel /host/NAME.xl (the
# site compiled in, on the direct stack over our Netfront at 169.254.100.3): xl create to
# the first answered request at URL, then dom0's curl (the host's, with its libraries in
# /host) gets the index, a 404, a range, a 304 and the large file, twice on one
# connection; a client that sends half a head (or half a handshake) holds no one up and is
# dropped after --header-timeout; a request that is not HTTP gets its 400.
website_session() {
    name=$1; W=$2; shift 2
    CURL="env LD_LIBRARY_PATH=/host /host/curl $*"
    T0=$(up)
    xl create /host/$name.xl >/tmp/create.out 2>&1 || echo "@@ $name-create=failed $(head -c 300 /tmp/create.out)"
    i=0; until $CURL -s -o /dev/null --max-time 2 $W/ || [ $i -gt 300 ]; do usleep 100000; i=$((i+1)); done
    echo "@@ $name-first-answer=$T0 $(up)"
    echo "@@ $name-index=$($CURL -s -o /tmp/index.html -w '%{http_code} %{size_download}' $W/)"
    echo "@@ $name-index-says=$(grep -o 'It works!' /tmp/index.html | head -1)"
    echo "@@ $name-404=$($CURL -s -o /dev/null -w '%{http_code}' $W/no/such/page)"
    echo "@@ $name-range=$($CURL -s -r 100-199 -o /tmp/part -w '%{http_code} %{size_download}' $W/files/large.bin) $(/host/sha256sum < /tmp/part | cut -c1-64)"
    etag=$($CURL -s -I $W/about.html | tr -d '\r' | sed -n 's/^etag: //ip')
    echo "@@ $name-etag=$etag"
    echo "@@ $name-304=$($CURL -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $etag" $W/about.html)"
    echo "@@ $name-large=$($CURL -s -o /tmp/large -w '%{http_code} %{size_download} %{speed_download}' $W/files/large.bin) $(/host/sha256sum < /tmp/large | cut -c1-64)"
    rm -f /tmp/large
    echo "@@ $name-reused=$($CURL -sv -o /dev/null -o /dev/null $W/ $W/about.html 2>&1 | grep -c 'Re-using existing connection')"
    echo "@@ $name-key=$($CURL -s -o /dev/null -w '%{http_code}' $W/tls/server.key)"
    # The slow client: half a request's head (over TLS, the start of a handshake), then
    # nothing for 8 s; the unikernel's timeout is 3 s.
    port=${W##*:}
    ( printf 'GET / HTTP/1.1\r\nHost: slow\r\n'; sleep 8 ) | nc 169.254.100.3 $port > /tmp/slow.out 2>&1 &
    slow=$!
    usleep 500000
    echo "@@ $name-during-slow=$($CURL -s -o /dev/null -w '%{http_code} %{time_total}' $W/about.html)"
    wait $slow
    echo "@@ $name-slow-answer=$(wc -c < /tmp/slow.out)"
    echo "@@ $name-bad=$(printf 'NOT HTTP AT ALL\r\n\r\n' | nc -w 5 169.254.100.3 8080 | head -1 | tr -d '\r')"
    echo "@@ $name-redirect=$($CURL -s -o /dev/null -w '%{http_code} %{redirect_url}' http://169.254.100.3:8080/about.html)"
    echo "@@ $name-ipv6=$($CURL -s -g -o /dev/null -w '%{http_code} %{redirect_url}' 'http://[fd00::3]:8080/about.html')"
    # 200 idle connections at once (more than its TCP memory holds): a request waits for
    # them to be dropped after the header timeout, and is answered.
    for i in $(seq 200); do ( sleep 8 | nc 169.254.100.3 $port >/dev/null 2>&1 & ); done
    usleep 500000
    echo "@@ $name-during-flood=$($CURL -s -o /dev/null -w '%{http_code}' --max-time 60 $W/about.html)"
    sleep 10
    echo "@@ $name-after-flood=$($CURL -s -o /dev/null -w '%{http_code}' --max-time 20 $W/about.html)"
    tr -d '\r' < /var/log/xen/console/guest-$name.log | sed "s/^/@@ $name-console=/"
    echo "@@ $name-state=$(domain_state $name)"
    xl destroy $name 2>/dev/null; wait_gone $name 30
}
website_session website http://169.254.100.3:8080
# HTTPS on the unikernel's own TLS (RustCrypto), checked against the test CA; the
# certificate names localhost, so curl is told where localhost is.
website_session website-tls https://localhost:4433 --cacert /host/test-ca.pem \
    --resolve localhost:4433:169.254.100.3

# A Linux PV domU: xl create to /init's first line.
T0=$(up)
EXTRA="console=hvc0 rdinit=/init quiet" linux_domu linux 128 >/dev/null 2>&1
wait_log "## linux init" linux 750
echo "@@ linux-init-after=$T0 $(up)"
wait_gone linux 30; xl destroy linux 2>/dev/null

# A panic: its message on the console, the domain crashed.
run_kernel panic 60
# A stack overflow: the guard page makes it a crash.
run_kernel overflow 60
echo "@@ overflow-xen=$(xl dmesg | grep -m1 -o 'Unhandled: vec 14, #PF\[[0-9a-f]*\]')"
# Heap exhaustion: a panic naming the failed allocation, the domain crashed.
run_kernel oom 60

# Idle: CPU time over 10 s of a sleeping guest.
# Also a warm start (not the boot's first domain): xl create to the first console line.
LOG=/var/log/xen/console/guest-idle.log
T0=$(up)
xl create /host/idle.xl >/dev/null 2>&1 || echo "@@ idle-create=failed"
i=0; until grep -q "idle start" $LOG 2>/dev/null || [ $i -gt 3000 ]; do usleep 10000; i=$((i+1)); done
echo "@@ idle-first-line-after=$T0 $(up)"
echo "@@ idle-boot=$(grep -o 'main after [0-9]* ns' $LOG | head -1)"
cpu() { xl list idle 2>/dev/null | tail -1 | tr -s ' ' | cut -d' ' -f6; }
echo "@@ idle-cpu-start=$(up) $(cpu)"
sleep 10
echo "@@ idle-cpu-end=$(up) $(cpu)"
xl destroy idle 2>/dev/null

# The guest's own boot (first instruction to main) with 256 MiB to map.
sed -e "s/^memory = .*/memory = 256/" -e "s/^name = .*/name = 'big'/" /host/idle.xl > /tmp/big.xl
echo 'extra = "0"' >> /tmp/big.xl
xl create /tmp/big.xl >/dev/null 2>&1 && wait_gone big 30
echo "@@ big-boot=$(grep -o 'main after [0-9]* ns' /var/log/xen/console/guest-big.log | head -1)"
xl destroy big 2>/dev/null

# The smallest memory that boots: the idle kernel, sleeping 0 s, at growing sizes.
for m in 2 3 4 5 6 8 10 12 16 32; do
    sed -e "s/^memory = .*/memory = $m/" -e "s/^name = .*/name = 'mem$m'/" \
        -e "s/^on_crash = .*/on_crash = 'destroy'/" /host/idle.xl > /tmp/mem.xl
    echo 'extra = "0"' >> /tmp/mem.xl
    if xl create /tmp/mem.xl >/tmp/create.out 2>&1; then
        wait_gone mem$m 10
        if grep -q "idle end" /var/log/xen/console/guest-mem$m.log 2>/dev/null; then
            echo "@@ smallest-memory=$m"; break
        fi
        xl destroy mem$m 2>/dev/null
    fi
    echo "@@ memory-$m=no: $(grep -m1 -i -E "error|fail" /tmp/create.out)"
done
# smallest NAME PATTERN: the smallest memory with which /host/NAME.xl gets to PATTERN on
# its console and is not crashed a moment later.
smallest() {
    for m in 4 5 6 8 12 16 32; do
        sed -e "s/^memory = .*/memory = $m/" -e "s/^name = .*/name = 'small'/" \
            -e "s/^on_crash = .*/on_crash = 'preserve'/" /host/$1.xl > /tmp/small.xl
        LOG=/var/log/xen/console/guest-small.log
        rm -f $LOG
        xl create /tmp/small.xl >/dev/null 2>&1 || continue
        wait_log "$2" small 150; found=$?
        sleep 2
        case "$(domain_state small)" in *c*) found=1 ;; esac
        xl destroy small 2>/dev/null; wait_gone small 10
        [ $found = 0 ] && { echo "@@ smallest-$1=$m"; return; }
    done
    echo "@@ smallest-$1=none"
}
smallest console world
smallest block_test "Total tests failed:  0"
smallest kv_ro_crunch "YES!"
smallest kv_ro-fat "YES!"
smallest stackv4 "IP address"
smallest website "HTTP on port"
xl dmesg | grep -i -E "unhandled|crash|d[0-9]+v0" | tail -10 | sed 's/^/@@ xen: /'
