# Shell functions the dom0 scripts share: harness::run_case puts this file before each
# script it runs in dom0.

# A domU's interface on dom0's bridge xenbr0 (Linux's netback), as a `vif = ...` line.
XENBR0_VIF="vif = [ 'mac=00:16:3e:00:00:02, bridge=xenbr0, script=/etc/xen/scripts/vif-lite' ]"

# linux_domu NAME MEMORY [LINE...]: creates NAME, a PV Linux domU booting the test ramdisk
# (/host/domu-test.cpio.gz) with its console on hvc0 and destroyed when it powers off; each
# LINE (a `vif = ...`, a `disk = ...`) goes into its config as it is. Sets LOG to its
# console log; the status is xl create's. EXTRA, if set, is the kernel's command line.
linux_domu() {
    name=$1; memory=$2; shift 2
    {
        echo "name = \"$name\""
        echo 'type = "pv"'
        echo 'kernel = "/boot/vmlinuz"'
        echo 'ramdisk = "/host/domu-test.cpio.gz"'
        echo "extra = \"${EXTRA:-console=hvc0 rdinit=/init}\""
        echo "memory = $memory"
        echo 'vcpus = 1'
        for line in "$@"; do echo "$line"; done
        echo 'on_poweroff = "destroy"'
    } > /tmp/$name.cfg
    LOG=/var/log/xen/console/guest-$name.log
    rm -f $LOG
    xl create /tmp/$name.cfg
}

# wait_log PATTERN NAME [STEPS] [PID]: waits until $LOG has a line matching PATTERN (grep's
# basic syntax), at most STEPS × 0.2 s (3000); gives up early when domain NAME is gone
# (looked at every 25 steps: xl's forks are slow) or process PID has ended. Status 1 if the
# line never came.
wait_log() {
    i=0; until grep -q "$1" $LOG 2>/dev/null; do
        i=$((i+1)); [ $i -gt "${3:-3000}" ] && return 1; usleep 200000
        [ $((i % 25)) = 0 ] && ! xl domid "$2" >/dev/null 2>&1 && return 1
        [ -n "${4:-}" ] && ! kill -0 "$4" 2>/dev/null && return 1
    done
    return 0
}

# wait_gone NAME [SECONDS]: waits (at most SECONDS, 20) until domain NAME no longer exists.
wait_gone() {
    i=0; while xl domid "$1" >/dev/null 2>&1 && [ $i -lt $((${2:-20} * 5)) ]; do
        usleep 200000; i=$((i+1))
    done
}

# domain_state NAME: its state flags in `xl list` (empty once it is gone).
domain_state() { xl list "$1" 2>/dev/null | tail -1 | tr -s ' ' | cut -d' ' -f5; }

# wait_end NAME SECONDS: waits until domain NAME is gone or crashed (kept by on_crash =
# 'preserve'); prints its last state.
wait_end() {
    i=0; while [ $i -lt "$2" ]; do
        state=$(domain_state "$1")
        case "$state" in ""|*c*) break ;; esac
        sleep 1; i=$((i+1))
    done
    echo "$state"
}

# kernel_faults: dom0's kernel lines on crashed processes, for addr2line.
kernel_faults() {
    dmesg | grep -i -E "segfault|general protection|traps:" | sed 's/^/@@ kernel: /'
}
