#!/bin/bash
# tests/v2/criu-payload.sh DIR: puts the host's CRIU into DIR for the v2
# guest, whose 6.1 kernel is the one kernel here that Debian's CRIU 3.17
# can work with (on the 6.13+ hosts it cannot initialise: the kernel split
# [vvar] into [vvar] + [vvar_vclock], which CRIU learnt only in 4.1).
#   DIR/criu, DIR/bin/, DIR/lib/   criu, the tools it runs to dump a
#                        network namespace (iproute2's ip, iptables-nft's
#                        save/restore: the guest's busybox ip cannot `save`)
#                        and a tmpfs (GNU tar, gzip)
#                        and the shared libraries they link (the guest has
#                        only glibc and libseccomp)
#   DIR/xtables/         iptables' extensions (CRIU's network lock rules)
#   DIR/mods/ + DIR/modules.load   the kernel modules CRIU needs that the
#                        guest image lacks, dependencies first: the socket
#                        diag modules (dumping sockets), nf_tables with the
#                        crc32c it loads at run time (CRIU's network lock),
#                        nf_conntrack_netlink (the conntrack dump),
#                        tun
#   DIR/setup.sh         run in the guest: loads the modules, puts a
#                        `criu` wrapper on PATH
# Exits 3 (and prints why) when there is no criu on the host.
set -euo pipefail
out=$1
criu=$(command -v criu || true)
[ -n "$criu" ] || { echo "criu-payload: no criu on this host" >&2; exit 3; }
for t in ip iptables-save tar gzip; do
  command -v $t >/dev/null || { echo "criu-payload: no $t on this host (apt-get install iproute2 iptables)" >&2; exit 1; }
done
V2GUEST_DIR=${V2GUEST_DIR:-/var/tmp/casco-v2guest}
# a machine that never booted the guest has no unpacked kernel yet: build it
# (V2GUEST_BUILD: the guest's build-initramfs.sh), as the guest's first run would
if [ ! -f "$V2GUEST_DIR/out/kernel-version" ] && [ -x "${V2GUEST_BUILD:-}" ]; then
  mkdir -p "$V2GUEST_DIR"
  flock "$V2GUEST_DIR/.build.lock" "$V2GUEST_BUILD" >&2
fi
kver=$(cat "$V2GUEST_DIR/out/kernel-version" 2>/dev/null || ls "$V2GUEST_DIR/build" | sed -n 's/^kernel-//p' | tail -1)
moddir=$V2GUEST_DIR/build/kernel-$kver/lib/modules/$kver
[ -f "$moddir/modules.dep" ] || { echo "criu-payload: no unpacked guest kernel under $V2GUEST_DIR/build" >&2; exit 1; }

mkdir -p "$out/lib" "$out/mods" "$out/bin"
cp "$criu" "$out/criu"
xt=$(readlink -f "$(command -v iptables-save)")
# GNU tar and gzip: CRIU dumps a tmpfs's contents with them (busybox's lack options)
cp "$(command -v ip)" "$(command -v tar)" "$(command -v gzip)" "$xt" "$out/bin/"
for t in iptables-save ip6tables-save iptables-restore ip6tables-restore; do ln -sf "$(basename "$xt")" "$out/bin/$t"; done
cp -r /usr/lib/x86_64-linux-gnu/xtables "$out/xtables"
for b in "$criu" "$out"/bin/ip "$out"/bin/tar "$xt"; do
  for l in $(ldd "$b" | awk '/=>/ { print $3 }'); do cp -L "$l" "$out/lib/"; done
done

declare -A seen=()
: > "$out/modules.load"
add() { # add REL: the module at REL (kernel/...ko) after its dependencies
  [ -z "${seen[$1]:-}" ] || return 0
  seen[$1]=1
  local d
  for d in $(awk -v m="$1:" '$1 == m { $1 = ""; print }' "$moddir/modules.dep"); do add "$d"; done
  cp "$moddir/$1" "$out/mods/"
  echo "$(basename "$1")" >> "$out/modules.load"
}
for m in unix_diag inet_diag tcp_diag udp_diag netlink_diag af_packet_diag crc32c_generic nf_tables nf_conntrack_netlink tun; do
  rel=$(awk -F: -v m="$m" '{ b = $1; sub(".*/", "", b); sub("\\.ko.*$", "", b) } b == m { print $1; exit }' "$moddir/modules.dep")
  if [ -n "$rel" ]; then add "$rel"; fi  # else built in
done

cat > "$out/setup.sh" <<'SETUP'
#!/bin/sh
# loads CRIU's modules and puts criu on PATH (in the v2 guest)
d=$(cd "$(dirname "$0")" && pwd)
while read -r m; do insmod "$d/mods/$m" 2>/dev/null || true; done < "$d/modules.load"
mkdir -p /usr/local/sbin
printf '#!/bin/sh\nexport LD_LIBRARY_PATH=%s/lib XTABLES_LIBDIR=%s/xtables PATH=%s/bin:$PATH\nexec %s/criu "$@"\n' "$d" "$d" "$d" "$d" > /usr/local/sbin/criu
chmod +x /usr/local/sbin/criu
SETUP
chmod +x "$out/setup.sh"
