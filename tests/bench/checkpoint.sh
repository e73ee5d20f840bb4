#!/bin/bash
# tests/bench/checkpoint.sh CASCO_BINARY: `checkpoint` and `restore` time,
# casco beside runc, interleaved round by round (casco, then runc), median
# of BENCH_CR_ROUNDS (default 10) each.
#
# The container: a busybox shell that sleeps in a loop, its stdio its own
# /dev/null (CRIU cannot dump a host file as stdio), default spec otherwise
# (runc's: pid, net, ipc, uts, mount namespaces, masked and read-only
# paths). checkpoint = `checkpoint --image-path` of the running container
# (CRIU ends it); restore = `restore -d` from that image. Both runtimes
# drive the same CRIU.
#
# crun is left out: Debian's crun 1.8.1 is built without CRIU (`crun
# checkpoint`: unknown command).
#
# Where CRIU works on this kernel the rounds run here. Where it cannot
# (`criu check` fails: Debian's CRIU 3.17 on kernels >= 6.13, these hosts)
# they run in the v2 guest (shared/v2guest: kernel 6.1 under QEMU's TCG
# emulation, about 20x slower than the host): read the casco/runc ratio
# there, not the milliseconds.
#
# Output: a markdown table on stdout, also written to
# $BENCH_RESULTS/checkpoint-latest.md (default tests/bench/results).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
casco=$(readlink -f "${1:?usage: $0 CASCO_BINARY}")
rounds=${BENCH_CR_ROUNDS:-10}
results=${BENCH_RESULTS:-$here/results}
runc=$(command -v runc || echo /usr/sbin/runc)

work=$(mktemp -d /tmp/casco-bench-cr.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bundle"
"$repo/tests/mkrootfs.sh" "$work/bundle/rootfs" >/dev/null
(cd "$work/bundle" && "$runc" spec)
python3 - "$work/bundle/config.json" <<'EOF'
import json, sys
p = sys.argv[1]
c = json.load(open(p))
c["process"]["terminal"] = False
c["process"]["args"] = ["sh", "-c", "exec </dev/null >/dev/null 2>&1; while :; do sleep 1; done"]
c["root"] = {"path": "rootfs", "readonly": False}
json.dump(c, open(p, "w"), indent=1)
EOF

# the rounds, as a script that runs here or in the guest: RUNTIMES="label=bin ..." BUNDLE ROUNDS
cat >"$work/rounds.sh" <<'EOF'
#!/bin/sh
# prints "label checkpoint|restore ms" per round
bundle=$1 rounds=$2; shift 2
# microseconds; busybox's date has no %N (and its awk's %d is 32-bit):
# /proc/uptime's centiseconds then
now() { d=$(date +%s%N); case $d in *N) awk '{ printf "%.0f\n", $1 * 1000000 }' /proc/uptime ;; *) echo $((d / 1000)) ;; esac; }
i=0
while [ $i -lt "$rounds" ]; do
  i=$((i + 1))
  for rt in "$@"; do
    label=${rt%%=*} bin=${rt#*=}
    root=/tmp/bench-cr-root-$label id=cr-$label-$i img=/tmp/bench-cr-img-$label-$i
    "$bin" --root $root run -d --bundle "$bundle" $id </dev/null >/dev/null 2>&1 || { echo "$label: run failed" >&2; exit 1; }
    sleep 1 # the shell moves its stdio to the container's /dev/null first
    t0=$(now)
    "$bin" --root $root checkpoint --image-path $img $id >/tmp/bench-cr-err 2>&1 || { echo "$label: checkpoint failed: $(tail -c 600 /tmp/bench-cr-err)" >&2; exit 1; }
    t1=$(now)
    "$bin" --root $root restore -d --image-path $img --bundle "$bundle" $id </dev/null >/tmp/bench-cr-err 2>&1 || { echo "$label: restore failed: $(tail -c 600 /tmp/bench-cr-err)" >&2; exit 1; }
    t2=$(now)
    "$bin" --root $root delete -f $id >/dev/null 2>&1
    rm -rf $img
    echo "$label checkpoint $((t1 - t0))"
    echo "$label restore $((t2 - t1))"
  done
done
EOF
chmod +x "$work/rounds.sh"
cp "$casco" "$work/casco"

where="this host ($(uname -r))"
if criu check >/dev/null 2>&1; then
  "$work/rounds.sh" "$work/bundle" "$rounds" casco="$work/casco" runc="$runc" >"$work/samples"
else
  why=$({ criu check 2>&1 || true; } | grep -m1 Error || echo "criu not installed")
  echo "checkpoint bench: CRIU cannot work here ($why): measuring in the v2 guest (kernel 6.1, TCG)" >&2
  guest=${V2GUEST:-$repo/../shared/v2guest/run-in-v2-guest.sh}
  [ -x "$guest" ] || guest=/work/shared/v2guest/run-in-v2-guest.sh
  "$repo/tests/v2/criu-payload.sh" "$work/criu" >&2
  "$guest" --accel "${V2GUEST_ACCEL:-tcg}" --timeout 3000 -f "$work/criu:/job/criu" -f "$work/casco:/job/casco" \
    -f "$work/bundle:/job/bundle" -f "$work/rounds.sh:/job/rounds.sh" \
    -c "/job/criu/setup.sh && /job/rounds.sh /job/bundle $rounds casco=/job/casco runc=\$(command -v runc) > /job/samples; echo @@rc=\$?; cat /job/samples" \
    >"$work/guest.log" 2>&1 || true
  grep -q '^@@rc=0' "$work/guest.log" || { tail -n 30 "$work/guest.log" >&2; echo "checkpoint bench: the guest run failed" >&2; exit 1; }
  grep -E '^(casco|runc) (checkpoint|restore) [0-9]+$' "$work/guest.log" >"$work/samples"
  where="the v2 guest (kernel 6.1 under TCG emulation: compare the ratio, not the ms)"
fi

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) { print "-"; exit } m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.1f\n", m / 1000 }'; }
med() { awk -v l="$1" -v s="$2" '$1 == l && $2 == s { print $3 }' "$work/samples" | median; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2f\n", a / b }'; }
{
  echo "## checkpoint and restore (CRIU $(criu --version 2>/dev/null | awk '/Version/ {print $2}'), median ms of $rounds rounds, $where)"
  echo
  echo "| step | casco | runc | crun | casco/runc |"
  echo "|---|---:|---:|---:|---:|"
  for s in checkpoint restore; do
    c=$(med casco $s) r=$(med runc $s)
    echo "| \`$s\` | $c | $r | n/a (built without CRIU) | $(ratio "$c" "$r") |"
  done
} | tee "$work/table.md"
mkdir -p "$results"
cp "$work/table.md" "$results/checkpoint-latest.md"
