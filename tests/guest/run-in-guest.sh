#!/bin/bash
# run-in-guest.sh: run a command as root in a throw-away QEMU guest on a pure
# cgroup v2 hierarchy: Debian 12 with its 6.1 kernel, whose PID 1 is
# systemd, or with --bare a shell script (image/bare-init) that leaves the
# whole cgroup tree to the command. Exits with the command's exit code
# (124: timeout, 125: the guest reported none).
#
#   run-in-guest.sh [--bare] [-f HOST[:GUEST]]... [-e NAME=VALUE]... [--timeout S]
#                   [--accel tcg|kvm|auto] [--keep] [-v] -c 'SNIPPET'
#   run-in-guest.sh --build      build the image if it is not cached, nothing else
#
# SNIPPET runs with /bin/sh in /job, stdout+stderr streamed here: under
# systemd from the unit casco-job.service (so in
# /system.slice/casco-job.service) once the system is up; with --bare from
# the root cgroup, every controller enabled there. -f copies host files
# into /job (GUEST relative to /job unless absolute under /job). The image
# (build-image.sh) is built on first use and cached in $GUEST_DIR (default
# /var/tmp/casco-guest), keyed by a hash of build-image.sh and image/; the
# disk is attached with snapshot=on, so every run starts from the same
# pristine root.
# Env: GUEST_ACCEL tcg|kvm|auto (default tcg: nested KVM is unreliable on
# many CI machines), GUEST_SMP (2), GUEST_MEM (MiB, 2048), GUEST_DIR;
# GUEST_MIRROR: the Debian mirror build-image.sh uses (default: the host's).
set -uo pipefail
here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
base=${GUEST_DIR:-/var/tmp/casco-guest}
die() { echo "guest: $*" >&2; exit 2; }
FILES=() ENVS=() SNIPPET= TIMEOUT=1800 KEEP=0 VERBOSE=0 BARE=0 ACCEL=${GUEST_ACCEL:-tcg}
while [ $# -gt 0 ]; do
  case "$1" in
    -f) FILES+=("$2"); shift 2 ;;
    -e) ENVS+=("$2"); shift 2 ;;
    -c) SNIPPET=$2; shift 2 ;;
    --timeout) TIMEOUT=$2; shift 2 ;;
    --accel) ACCEL=$2; shift 2 ;;
    --bare) BARE=1; shift ;;
    --keep) KEEP=1; shift ;;
    -v) VERBOSE=1; shift ;;
    --build) SNIPPET=${SNIPPET:-true}; BUILDONLY=1; shift ;;
    *) die "unknown argument $1 (see the header of $0)" ;;
  esac
done
[ -n "$SNIPPET" ] || die "no -c SNIPPET"

key=$(cat "$here/build-image.sh" "$here"/image/* | sha256sum | cut -c1-16)
img=$base/$key
if [ ! -f "$img/root.img" ]; then
  mkdir -p "$base"
  exec 9>"$base/.lock"; flock 9
  if [ ! -f "$img/root.img" ]; then
    # images of older build scripts are dead weight
    find "$base" -mindepth 1 -maxdepth 1 -type d ! -name "$key" ! -name runs -exec rm -rf {} +
    # a build killed half-way may have left proc mounted in its root
    awk -v d="$img.tmp/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r | xargs -r -n1 umount -l
    rm -rf "$img.tmp"
    t=$SECONDS
    "$here/build-image.sh" "$img.tmp" || die "build-image.sh failed (its work dir: $img.tmp)"
    mv "$img.tmp" "$img"
    echo "guest: image built in $((SECONDS - t))s" >&2
  fi
  flock -u 9; exec 9>&-
fi
[ -n "${BUILDONLY:-}" ] && exit 0

mkdir -p "$base/runs"
RUN=$(mktemp -d "$base/runs/run.XXXXXX")
trap '[ "$KEEP" = 1 ] || rm -rf "$RUN"' EXIT
PL=$RUN/payload
mkdir -p "$PL/job"
for f in "${FILES[@]}"; do
  src=${f%%:*} dst=$(basename "${f%%:*}")
  case "$f" in *:*) dst=${f#*:} ;; esac
  case "$dst" in /job/*) ;; /*) die "-f $f: the guest path must be under /job" ;; *) dst=/job/$dst ;; esac
  [ -e "$src" ] || die "no such file: $src"
  mkdir -p "$PL$(dirname "$dst")"; cp -a "$src" "$PL$dst"
done
{
  for e in "${ENVS[@]}"; do printf "export %s='%s'\n" "${e%%=*}" "$(printf '%s' "${e#*=}" | sed "s/'/'\\\\''/g")"; done
  printf '%s\n' "$SNIPPET"
} > "$PL/job/.cmd.sh"
(cd "$PL" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) > "$RUN/payload.cpio"
cat "$img/initrd.cpio" "$RUN/payload.cpio" > "$RUN/initrd.cpio"

if [ "$ACCEL" = auto ]; then [ -w /dev/kvm ] && ACCEL=kvm || ACCEL=tcg; fi
case "$ACCEL" in
  kvm) accel=(-accel kvm -cpu host) ;;
  tcg) accel=(-accel tcg,thread=multi -cpu max) ;;
  *) die "--accel (GUEST_ACCEL): tcg, kvm or auto" ;;
esac
kernel=$img/vmlinuz; [ -f "$img/vmlinux" ] && kernel=$img/vmlinux
cmdline="console=ttyS0 panic=-1 quiet loglevel=3 rw"
if [ "$BARE" = 1 ]; then
  cmdline="$cmdline casco.init=bare"
else
  cmdline="$cmdline systemd.unified_cgroup_hierarchy=1 systemd.show_status=0 systemd.log_target=console systemd.log_level=warning"
fi
# Under TCG the vCPUs read the host's TSC: trusting it keeps the vDSO clock
# and skips calibration (seconds of boot).
if [ "$ACCEL" = tcg ]; then
  lpj=$(awk -F: '/^cpu MHz/ { printf "%d", $2 * 1000000 / 250; exit }' /proc/cpuinfo)
  cmdline="$cmdline tsc=reliable${lpj:+ lpj=$lpj}"
fi
qemu=(qemu-system-x86_64 -nodefaults -no-user-config -display none -nic none -M pc "${accel[@]}"
  -smp "${GUEST_SMP:-2}" -m "${GUEST_MEM:-2048}" -no-reboot
  -kernel "$kernel" -initrd "$RUN/initrd.cpio" -append "$cmdline"
  -drive "file=$img/root.img,if=virtio,format=raw,snapshot=on,cache=unsafe"
  -chardev stdio,id=con,signal=off -serial chardev:con
  -device virtio-serial-pci,id=vs -chardev file,id=gout,path="$RUN/out.log"
  -device virtserialport,bus=vs.0,chardev=gout,name=guestout)
: > "$RUN/out.log"
t0=$EPOCHREALTIME
if [ "$VERBOSE" = 1 ]; then
  timeout --kill-after=10 "$TIMEOUT" "${qemu[@]}" < /dev/null 2> "$RUN/qemu.err" | tee "$RUN/console.log" >&2 &
else
  timeout --kill-after=10 "$TIMEOUT" "${qemu[@]}" < /dev/null > "$RUN/console.log" 2> "$RUN/qemu.err" &
fi
QPID=$!
tail -c +1 -s 0.2 -f --pid=$QPID "$RUN/out.log" &
TPID=$!
wait $QPID; qrc=$?
wait $TPID 2>/dev/null
t1=$EPOCHREALTIME
tr -d '\r' < "$RUN/console.log" > "$RUN/console.txt"
rc=$(sed -n 's/^@@GUEST-EXIT=\([0-9]*\).*/\1/p' "$RUN/console.txt" | tail -1)
up() { sed -n "s/^@@$1 uptime=\([0-9.]*\).*/\1/p" "$RUN/console.txt" | head -1; }
printf 'guest: %s, accel=%s kernel %s: initrd at %ss, job started at %ss (guest uptime), job ran %ss; wall %ss; exit %s\n' \
  "$([ "$BARE" = 1 ] && echo bare || echo systemd)" "$ACCEL" "$(cat "$img/kernel-version")" "$(up INITRD)" "$(up CMD-START)" \
  "$(awk -v a="$(up CMD-START)" -v b="$(up CMD-END)" 'BEGIN { if (a != "" && b != "") printf "%.1f", b - a; else printf "?" }')" \
  "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')" "${rc:-none}" >&2
if [ -z "$rc" ]; then
  [ "$qrc" = 124 ] && echo "guest: timed out after ${TIMEOUT}s" >&2
  echo "guest: no exit code from the guest (qemu exit $qrc); console tail:" >&2
  tail -n 40 "$RUN/console.txt" >&2; cat "$RUN/qemu.err" >&2
  KEEP=1; echo "guest: kept $RUN" >&2
  [ "$qrc" = 124 ] && exit 124
  exit 125
fi
[ "$KEEP" = 1 ] && echo "guest: run dir $RUN" >&2
exit "$rc"
