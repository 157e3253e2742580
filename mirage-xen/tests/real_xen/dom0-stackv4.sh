#!/bin/sh
# Runs in dom0 (boot.sh -s): a PV domU on xenbr0 (Linux's netback, xl's vif-lite script)
# whose mir-stackv4 runs the direct stack on our Netfront; dom0 pings it and sends it a
# TCP line with nc.
linux_domu s 192 "$XENBR0_VIF" || { echo "@@ create failed"; exit 1; }
wait_log "IP address\|## STACKV4-END" s 3000
ping -c 3 -W 10 169.254.100.2 > /tmp/ping.txt 2>&1
echo "@@ ping=$(grep -o '[0-9]* packets transmitted, [0-9]* packets received' /tmp/ping.txt)"
echo -n hello tcp world | nc -w 3 169.254.100.2 8080
sleep 3
tr -d '\r' < $LOG | sed -n '/## STACKV4-BEGIN/,$p'
xl destroy s 2>/dev/null
