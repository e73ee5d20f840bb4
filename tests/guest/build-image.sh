#!/bin/bash
# build-image.sh: build the test guest (see README.md) into $1:
#   root.img     ext4 image of a minimal Debian 12 root (debootstrap) whose
#                PID 1 is systemd, or image/bare-init (run-in-guest.sh
#                --bare); booted with snapshot=on, never written
#   vmlinuz      Debian's kernel (linux-image-amd64, unpacked with dpkg -x;
#                nothing is installed into the host's /boot)
#   vmlinux      the same, uncompressed, for QEMU's faster PVH boot (if any)
#   initrd.cpio  busybox + the modules to mount the root, and image/initrd-init
#   kernel-version
# Host packages it needs (debootstrap, qemu-system-x86, busybox-static,
# e2fsprogs, cpio) are installed with apt-get when missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: build-image.sh OUTDIR}
mkdir -p "$out"
work=$out/build
rm -rf "$work"; mkdir -p "$work/debs"
t0=$SECONDS
log() { echo "guest: [$((SECONDS - t0))s] $*" >&2; }

need=()
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
command -v mkfs.ext4 >/dev/null || need+=(e2fsprogs)
command -v cpio >/dev/null || need+=(cpio)
{ [ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1; } || need+=(busybox-static)
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  apt-get -o DPkg::Lock::Timeout=900 update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -q --no-install-recommends "${need[@]}" >/dev/null
fi

# The mirror the host's apt uses (deb822 or one-line sources).
mirror=$(sed -n 's/^URIs: *\(http[^ ]*\/debian\)\/*$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1)
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $3 ~ /^bookworm$/ { print $2; exit }' /etc/apt/sources.list 2>/dev/null)
mirror=${GUEST_MIRROR:-${mirror:-http://deb.debian.org/debian}}

# --- kernel ------------------------------------------------------------------
kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-/ { print $2; exit }')
if [ -z "$kpkg" ]; then apt-get -o DPkg::Lock::Timeout=900 update -q >/dev/null
  kpkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-/ { print $2; exit }'); fi
kver=${kpkg#linux-image-}
log "kernel $kpkg, mirror $mirror"
(cd "$work/debs" && apt-get download -q "$kpkg" >/dev/null)
kdir=$work/kernel
dpkg -x "$work"/debs/"$kpkg"_*.deb "$kdir"
moddir=$kdir/lib/modules/$kver

# --- root ----------------------------------------------------------------------
# debootstrap lays down systemd + D-Bus + logind (user sessions for
# `systemd --user`); apt inside the root then adds Debian's runc (the
# comparison), podman and containerd (the engine cases), CRIU for their
# checkpoint/restore cases (the guest's 6.1 kernel is one Debian's CRIU 3.17
# works on; 6.13+ hosts are not) with iptables, which its network lock runs:
# debootstrap's own resolver gets podman's alternatives wrong.
base=systemd,systemd-sysv,dbus,dbus-user-session,libpam-systemd,kmod,procps,iproute2
extra="runc podman containerd uidmap catatonit conmon golang-github-containers-common slirp4netns criu iptables"
root=$work/root
log "debootstrap bookworm ($base)"
debootstrap --variant=minbase --include="$base" --components=main bookworm "$root" "$mirror" > "$work/debootstrap.log" 2>&1 ||
  { tail -20 "$work/debootstrap.log" "$root/debootstrap/debootstrap.log" >&2; exit 1; }
log "apt-get install $extra"
printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"; chmod 755 "$root/usr/sbin/policy-rc.d"
# the host's name resolution (the mirror may be an /etc/hosts entry), for apt only
cp "$root/etc/hosts" "$work/hosts.guest" 2>/dev/null || : > "$work/hosts.guest"
cp /etc/hosts "$root/etc/hosts"; cp -L /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
mount -t proc proc "$root/proc"
trap 'umount "$root/proc" 2>/dev/null || true' EXIT
apt_opts="-o Acquire::Check-Valid-Until=false -o Acquire::Check-Date=false -o APT::Sandbox::User=root"
chroot "$root" sh -c "apt-get $apt_opts update -q && DEBIAN_FRONTEND=noninteractive apt-get $apt_opts install -y -q --no-install-recommends $extra" > "$work/apt.log" 2>&1 ||
  { tail -30 "$work/apt.log" >&2; exit 1; }
umount "$root/proc"; trap - EXIT
cp "$work/hosts.guest" "$root/etc/hosts"; : > "$root/etc/resolv.conf"
rm -f "$root/usr/sbin/policy-rc.d"
log "root done ($(du -sm "$root" | cut -f1) MiB)"

# Kernel modules the tests may load (overlay for podman, veth/bridge, loop,
# 9p, fuse): a subset keeps the image small.
mkdir -p "$root/lib/modules/$kver/kernel"
for d in fs net lib crypto arch drivers/block drivers/net drivers/virtio drivers/char; do
  [ -d "$moddir/kernel/$d" ] || continue
  mkdir -p "$root/lib/modules/$kver/kernel/$(dirname $d)"
  cp -a "$moddir/kernel/$d" "$root/lib/modules/$kver/kernel/$d"
done
cp "$moddir"/modules.order "$moddir"/modules.builtin* "$root/lib/modules/$kver/"
# (the package leaves modules.dep to its postinst: the root's kmod makes it)
chroot "$root" depmod -a "$kver"
rootmods=$root/lib/modules/$kver

# Quiet, fast boot (under TCG every exec counts): nothing the packages
# enable (podman's units, containerd, timers, getty: the engine suite
# starts its own daemons), no generators, and none of the "needs update"
# services, which would run on every boot since the root is a snapshot
# that never keeps their stamp.
sd=$root/etc/systemd/system
for w in "$sd"/*.wants; do find "$w" -mindepth 1 -maxdepth 1 -type l -delete; done
for u in getty@tty1.service serial-getty@ttyS0.service getty.target systemd-timesyncd.service \
         apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service fstrim.timer \
         dpkg-db-backup.timer logrotate.timer systemd-tmpfiles-clean.timer man-db.timer \
         containerd.service podman.service podman.socket podman-restart.service podman-auto-update.service \
         podman-auto-update.timer podman-clean-transient.service \
         ldconfig.service systemd-journal-catalog-update.service systemd-hwdb-update.service \
         systemd-update-done.service systemd-binfmt.service proc-sys-fs-binfmt_misc.automount \
         systemd-networkd-wait-online.service systemd-pstore.service systemd-firstboot.service \
         systemd-machine-id-commit.service; do
  ln -sfn /dev/null "$sd/$u"
done
mkdir -p "$root/etc/systemd/system-generators"
for g in "$root"/usr/lib/systemd/system-generators/*; do ln -sfn /dev/null "$root/etc/systemd/system-generators/${g##*/}"; done
install -m 0644 "$here/image/casco-job.service" "$sd/casco-job.service"
mkdir -p "$sd/multi-user.target.wants"
ln -sfn ../casco-job.service "$sd/multi-user.target.wants/casco-job.service"
install -m 0755 "$here/image/casco-job" "$root/usr/local/sbin/casco-job"
install -m 0755 "$here/image/bare-init" "$root/usr/local/sbin/bare-init"
echo sdguest > "$root/etc/hostname"
: > "$root/etc/fstab"
printf '[Journal]\nStorage=volatile\nForwardToConsole=no\n' > "$root/etc/systemd/journald.conf"
# an unprivileged user with lingering (its `systemd --user` starts at boot)
chroot "$root" useradd -m -u 1000 -s /bin/sh tester
mkdir -p "$root/var/lib/systemd/linger" && : > "$root/var/lib/systemd/linger/tester"
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/usr/share/doc "$root"/usr/share/man "$root"/usr/share/locale

# --- initrd: busybox + what mounting the root needs ------------------------------
ird=$work/initrd
mkdir -p "$ird"/{bin,dev,proc,sys,newroot,lib/modules}
cp /bin/busybox "$ird/bin/busybox"
ln -s busybox "$ird/bin/sh"
declare -A seen=()
mods=()
addmod() { # $1: path relative to the modules dir
  [ -n "${seen[$1]:-}" ] && return; seen[$1]=1
  local d; for d in $(awk -v m="$1:" '$1 == m { $1 = ""; print }' "$rootmods/modules.dep"); do addmod "$d"; done
  mods+=("$1")
}
for m in virtio_pci virtio_blk crc32c_generic ext4 virtio_console; do
  rel=$(grep -E "/$m\.ko(\.[a-z]+)?:" "$rootmods/modules.dep" | cut -d: -f1 | head -1)
  if [ -z "$rel" ]; then grep -q "/$m.ko" "$rootmods/modules.builtin" && continue; echo "no module $m" >&2; exit 1; fi
  addmod "$rel"
done
: > "$ird/modules"
for rel in "${mods[@]}"; do cp "$rootmods/$rel" "$ird/lib/modules/"; echo "/lib/modules/$(basename "$rel")" >> "$ird/modules"; done
install -m 0755 "$here/image/initrd-init" "$ird/init"
(cd "$ird" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) > "$out/initrd.cpio"

# --- the disk image -------------------------------------------------------------
size=$(( $(du -sm "$root" | cut -f1) + 1024 ))
rm -f "$out/root.img"
mkfs.ext4 -q -F -L sdroot -E lazy_itable_init=1 -d "$root" "$out/root.img" "${size}M"
cp "$kdir/boot/vmlinuz-$kver" "$out/vmlinuz"
# The uncompressed ELF (PVH entry) skips the in-guest decompression, seconds under TCG.
rm -f "$out/vmlinux"
off=$(LC_ALL=C grep -m1 -obUaP '\xfd7zXZ\x00' "$out/vmlinuz" | cut -d: -f1 | head -1 || true)
if [ -n "$off" ] && grep -q '^CONFIG_PVH=y' "$kdir/boot/config-$kver"; then
  tail -c +$((off + 1)) "$out/vmlinuz" | xz -dc > "$out/vmlinux" 2>/dev/null || true
  [ "$(head -c4 "$out/vmlinux" | od -An -tx1 | tr -d ' ')" = 7f454c46 ] || rm -f "$out/vmlinux"
fi
echo "$kver" > "$out/kernel-version"
rm -rf "$work"
log "built $out: root.img $(du -h --apparent-size "$out/root.img" | cut -f1) ($(du -h "$out/root.img" | cut -f1) used), kernel $kver"
