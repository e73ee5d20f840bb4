#!/bin/sh
# mkrootfs.sh DIR: a minimal busybox-static root filesystem in DIR (every
# applet as a symlink, root in /etc/passwd and /etc/group). Used by
# mkbundle.sh (make demo) and the benchmark.
set -eu
root=$1
busybox=${BUSYBOX:-$(command -v busybox || echo /bin/busybox)}
[ -x "$busybox" ] || { echo "mkrootfs: busybox not found (apt-get install busybox-static)" >&2; exit 1; }
mkdir -p "$root/bin" "$root/proc" "$root/sys" "$root/dev" "$root/etc" "$root/tmp"
cp "$busybox" "$root/bin/busybox"
for applet in $("$root/bin/busybox" --list); do
	[ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
done
echo "root:x:0:0:root:/root:/bin/sh" >"$root/etc/passwd"
echo "root:x:0:" >"$root/etc/group"
