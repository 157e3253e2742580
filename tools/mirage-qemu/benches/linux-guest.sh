#!/bin/sh
# Builds the benchmark's baseline guest: Debian's own kernel (the linux-image-amd64 of this
# release) with its virtio-net driver, booted by QEMU from OUT/vmlinuz and OUT/initrd.gz.
# Its /init loads the virtio modules, takes the address on its command line (`ip=A.B.C.D`)
# and sinks TCP on port 5001 for ever (busybox's nc, a `cat` per connection). Needs apt-get and dpkg-deb; the
# packages are cached in OUT/debs.
#
#   linux-guest.sh OUT
set -eu
out=$(mkdir -p "$1/debs" && cd "$1" && pwd)
cd "$out/debs"
kernel=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
[ -n "$(ls "$kernel"_*.deb 2>/dev/null)" ] || apt-get download -qq "$kernel"
[ -n "$(ls busybox-static_*.deb 2>/dev/null)" ] || apt-get download -qq busybox-static
root=$out/root
rm -rf "$root" "$out/kernel-files"
mkdir -p "$root/bin" "$root/lib/modules" "$root/proc" "$root/sys" "$out/kernel-files"
dpkg-deb -x busybox-static_*.deb "$out/busybox"
cp "$out/busybox/bin/busybox" "$root/bin/busybox"
dpkg-deb --fsys-tarfile "$kernel"_*.deb | tar -x -C "$out/kernel-files" --wildcards \
    './boot/vmlinuz-*' './lib/modules/*/kernel/drivers/virtio/*' \
    './lib/modules/*/kernel/drivers/net/virtio_net.ko' './lib/modules/*/kernel/drivers/net/net_failover.ko' \
    './lib/modules/*/kernel/net/core/failover.ko'
cp "$out"/kernel-files/boot/vmlinuz-* "$out/vmlinuz"
find "$out/kernel-files/lib/modules" -name '*.ko' -exec cp {} "$root/lib/modules/" \;
cat > "$root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
for module in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci \
    failover net_failover virtio_net; do
    insmod /lib/modules/$module.ko
done
address=$(sed -n 's/.*ip=\([0-9.]*\).*/\1/p' /proc/cmdline)
ip link set lo up
ip addr add "$address/24" dev eth0
ip link set eth0 up
printf '#!/bin/sh\nexec cat > /dev/null\n' > /bin/sink
chmod +x /bin/sink
echo "linux sink listening"
exec nc -ll -p 5001 -e /bin/sink
INIT
chmod +x "$root/init"
(cd "$root" && find . | "$root/bin/busybox" cpio -o -H newc | gzip -1) > "$out/initrd.gz"
rm -rf "$out/kernel-files" "$out/busybox"
