#!/bin/sh
# Makes the 100000-sector (51,200,000-byte) zeroed image that mir-block_test expects.
dd if=/dev/zero of=disk.img count=100000
