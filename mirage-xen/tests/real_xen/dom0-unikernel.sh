#!/bin/sh
# Runs in dom0 (boot.sh -s): our PV unikernels booted by `xl create` from their generated
# .xl files (in /host with the kernels): mir-console's hello world with each console line's
# time, mir-block_test on a disk, a panicking kernel, a stack overflow, heap exhaustion, an idle kernel's CPU time, the smallest memory that boots, and a
# Linux PV domU's time to /init as the yardstick.
up() { read u _ < /proc/uptime; echo "$u"; }
gone() { ! xl domid "$1" >/dev/null 2>&1; }
# Waits (up to $2 tenths of a second) until domain $1 is gone.
wait_gone() { i=0; while ! gone "$1" && [ $i -lt "$2" ]; do usleep 100000; i=$((i+1)); done; }

# mir-console: created paused, its console attached, then unpaused; each line timed.
T0=$(up)
xl create -p /host/console.xl >/tmp/create.out 2>&1 || { echo "@@ console-create=failed $(cat /tmp/create.out)"; }
(sleep 120 | xl console console | while IFS= read -r line; do
    read u _ < /proc/uptime; echo "@@ console-line=$u $line"; done > /tmp/console.out) &
usleep 300000
xl unpause console
wait_gone console 600
sleep 1
echo "@@ console-t0=$T0"
tr -d '\r' < /tmp/console.out
echo "@@ console-shutdown=$(grep -o 'shut down, reason code [0-9]*' /var/log/xen/xl-console.log | head -1)"

# block_test: its disk from its .xl, served by dom0's kernel blkback to our Blkfront.
dd if=/dev/zero of=/tmp/disk.img count=100000 2>/dev/null
xl create /host/block_test.xl >/tmp/create.out 2>&1 || echo "@@ block_test-create=failed $(head -c 300 /tmp/create.out)"
# Until it powers off, or crashes (kept by on_crash = 'preserve').
i=0; while [ $i -lt 300 ]; do
    state=$(xl list block_test 2>/dev/null | tail -1 | tr -s ' ' | cut -d' ' -f5)
    case "$state" in ""|*c*) break ;; esac
    sleep 1; i=$((i+1))
done
tr -d '\r' < /var/log/xen/console/guest-block_test.log | sed 's/^/@@ block_test-console=/'
echo "@@ block_test-shutdown=$(grep -o 'shut down, reason code [0-9]*' /var/log/xen/xl-block_test.log | head -1)"
xl destroy block_test 2>/dev/null

# A Linux PV domU: xl create to /init's first line.
cat > /tmp/linux.cfg <<CFG
name = "linux"
type = "pv"
kernel = "/boot/vmlinuz"
ramdisk = "/host/domu-test.cpio.gz"
extra = "console=hvc0 rdinit=/init quiet"
memory = 128
vcpus = 1
on_poweroff = "destroy"
CFG
LOG=/var/log/xen/console/guest-linux.log
rm -f $LOG
T0=$(up)
xl create /tmp/linux.cfg >/dev/null 2>&1
i=0; until grep -q "## linux init" $LOG 2>/dev/null || [ $i -gt 1500 ]; do usleep 100000; i=$((i+1)); done
echo "@@ linux-init-after=$T0 $(up)"
wait_gone linux 300; xl destroy linux 2>/dev/null

# A panic: its message on the console, the domain crashed (kept by on_crash = 'preserve').
xl create /host/panic.xl >/dev/null 2>&1 || echo "@@ panic-create=failed"
LOG=/var/log/xen/console/guest-panic.log
i=0; until grep -q "panic" $LOG 2>/dev/null || [ $i -gt 300 ]; do usleep 100000; i=$((i+1)); done
usleep 500000
tr -d '\r' < $LOG | sed 's/^/@@ panic-console=/'
echo "@@ panic-state=$(xl list panic 2>/dev/null | tail -1 | tr -s ' ' | cut -d' ' -f5)"
echo "@@ panic-shutdown=$(grep -o 'shut down, reason code [0-9]*' /var/log/xen/xl-panic.log | head -1)"
xl destroy panic 2>/dev/null

# A stack overflow: the guard page makes it a crash.
xl create /host/overflow.xl >/dev/null 2>&1 || echo "@@ overflow-create=failed"
i=0; while [ $i -lt 60 ]; do
    state=$(xl list overflow 2>/dev/null | tail -1 | tr -s ' ' | cut -d' ' -f5)
    case "$state" in ""|*c*) break ;; esac
    sleep 1; i=$((i+1))
done
tr -d '\r' < /var/log/xen/console/guest-overflow.log | sed 's/^/@@ overflow-console=/'
echo "@@ overflow-state=$state"
echo "@@ overflow-xen=$(xl dmesg | grep -m1 -o 'Unhandled: vec 14, #PF\[[0-9a-f]*\]')"
xl destroy overflow 2>/dev/null

# Heap exhaustion: a panic naming the failed allocation, the domain crashed.
xl create /host/oom.xl >/dev/null 2>&1 || echo "@@ oom-create=failed"
i=0; while [ $i -lt 60 ]; do
    state=$(xl list oom 2>/dev/null | tail -1 | tr -s ' ' | cut -d' ' -f5)
    case "$state" in ""|*c*) break ;; esac
    sleep 1; i=$((i+1))
done
tr -d '\r' < /var/log/xen/console/guest-oom.log | sed 's/^/@@ oom-console=/'
echo "@@ oom-state=$state"
xl destroy oom 2>/dev/null

# Idle: CPU time over 10 s of a sleeping guest.
# Also a warm start (not the boot's first domain): xl create to the first console line.
LOG=/var/log/xen/console/guest-idle.log
T0=$(up)
xl create /host/idle.xl >/dev/null 2>&1 || echo "@@ idle-create=failed"
i=0; until grep -q "idle start" $LOG 2>/dev/null || [ $i -gt 3000 ]; do usleep 10000; i=$((i+1)); done
echo "@@ idle-first-line-after=$T0 $(up)"
cpu() { xl list idle 2>/dev/null | tail -1 | tr -s ' ' | cut -d' ' -f6; }
echo "@@ idle-cpu-start=$(up) $(cpu)"
sleep 10
echo "@@ idle-cpu-end=$(up) $(cpu)"
xl destroy idle 2>/dev/null

# The smallest memory that boots: the idle kernel, sleeping 0 s, at growing sizes.
for m in 9 10 11 12 14 16 20 24 32; do
    sed -e "s/^memory = .*/memory = $m/" -e "s/^name = .*/name = 'mem$m'/" \
        -e "s/^on_crash = .*/on_crash = 'destroy'/" /host/idle.xl > /tmp/mem.xl
    echo 'extra = "0"' >> /tmp/mem.xl
    if xl create /tmp/mem.xl >/tmp/create.out 2>&1; then
        wait_gone mem$m 100
        if grep -q "idle end" /var/log/xen/console/guest-mem$m.log 2>/dev/null; then
            echo "@@ smallest-memory=$m"; break
        fi
        xl destroy mem$m 2>/dev/null
    fi
    echo "@@ memory-$m=no: $(grep -m1 -i -E "error|fail" /tmp/create.out)"
done
xl dmesg | grep -i -E "unhandled|crash|d[0-9]+v0" | tail -10 | sed 's/^/@@ xen: /'
