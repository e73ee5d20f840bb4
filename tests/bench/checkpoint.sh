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
# (`criu check` fails: Debian's CRIU 3.17 on kernels >= 6.13)
# they run in the test guest (tests/guest: Debian 12, kernel 6.1, systemd,
# Debian's criu installed as on any bookworm host; the reference runc is
# copied in), under QEMU's
# TCG emulation when there is no /dev/kvm: every instruction is emulated,
# so the milliseconds are many times a real machine's.
#
# Most of either number is CRIU's own work, the same for both runtimes.
# Each round also reads CRIU's elapsed time from its log (the timestamp of
# the log's last line) and the table shows the rest, what the runtime adds
# (its own start, the state and cgroups, the RPC, the external mounts),
# which is where casco and runc differ. CRIU's own part differs too: runc
# always asks for an empty network namespace (its setEmptyNsMask: "runc
# doesn't manage network devices"), casco dumps and restores the
# container's own one (lo, its addresses, routes, iptables: a few more
# execs of ip and iptables-save/-restore) unless --empty-ns network.
#
# Output: a markdown table on stdout, also written to
# $BENCH_RESULTS/checkpoint-latest.md (default tests/bench/results).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
casco=$(readlink -f "${1:?usage: $0 CASCO_BINARY}")
rounds=${BENCH_CR_ROUNDS:-15}
results=${BENCH_RESULTS:-$here/results}
# the reference runc (REF_RUNC, `make runc-ref`): a static binary, copied
# into the guest too
runc=${REF_RUNC:-}
[ -x "$runc" ] || { echo "checkpoint bench: REF_RUNC=$runc: not an executable (make runc-ref builds it; make bench sets it)" >&2; exit 1; }

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
# prints "label checkpoint|restore|criu-dump|criu-restore MICROSECONDS" per round
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
    echo "$label checkpoint $((t1 - t0))"
    echo "$label restore $((t2 - t1))"
    # CRIU's own time: its log lines start with "(seconds.micros)" since it started
    for s in dump restore; do
      c=$(sed -n 's/^(\([0-9]*\)\.\([0-9]*\)).*/\1 \2/p' $img/$s.log | tail -n1)
      [ -n "$c" ] && echo "$label criu-$s $(( $(echo $c | cut -d' ' -f1 | sed 's/^0*//;s/^$/0/') * 1000000 + $(echo $c | cut -d' ' -f2 | sed 's/^0*//;s/^$/0/') ))"
    done
    rm -rf $img
  done
done
EOF
chmod +x "$work/rounds.sh"
cp "$casco" "$work/casco"

where="this host ($(uname -r))"
criu_version=
if criu check >/dev/null 2>&1; then
  "$work/rounds.sh" "$work/bundle" "$rounds" casco="$work/casco" runc="$runc" >"$work/samples"
else
  why=$({ criu check 2>&1 || true; } | grep -m1 Error || echo "criu not installed")
  echo "checkpoint bench: CRIU cannot work here ($why): measuring in the systemd guest (Debian 12, kernel 6.1)" >&2
  "$repo/tests/guest/run-in-guest.sh" --timeout 3000 -f "$work/casco:casco" -f "$work/bundle:bundle" -f "$work/rounds.sh:rounds.sh" -f "$runc:runc" \
    -c "/job/rounds.sh /job/bundle $rounds casco=/job/casco runc=/job/runc > /job/samples; echo @@rc=\$?; cat /job/samples; criu --version | sed 's/^/@@/'" \
    >"$work/guest.log" 2>&1 || true
  grep -q '^@@rc=0' "$work/guest.log" || { tail -n 30 "$work/guest.log" >&2; echo "checkpoint bench: the guest run failed" >&2; exit 1; }
  grep -E '^(casco|runc) (criu-)?(checkpoint|restore|dump) [0-9]+$' "$work/guest.log" >"$work/samples"
  criu_version=$(sed -n 's/^@@Version: *//p' "$work/guest.log")
  accel=${GUEST_ACCEL:-tcg}
  where="the systemd guest (kernel 6.1, QEMU $accel$([ "$accel" = tcg ] && echo ': emulated, compare the runtimes, not the ms with a real machine'))"
fi

criu_version=${criu_version:-$(criu --version 2>/dev/null | awk '/Version/ {print $2}')}
# stat LABEL STEP: "median (min-max)" in ms of the rounds
stat() {
  awk -v l="$1" -v s="$2" '$1 == l && $2 == s { print $3 }' "$work/samples" | sort -n |
    awk '{ v[NR] = $1 } END { if (NR == 0) { print "-"; exit }
      m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
      printf "%.1f (%.1f-%.1f)\n", m / 1000, v[1] / 1000, v[NR] / 1000 }'
}
# runtime LABEL STEP: median over the rounds of the wall time minus CRIU's own
runtime() {
  awk -v l="$1" -v s="$2" -v c="criu-$3" '$1 != l { next } $2 == s { w[++n] = $3 } $2 == c { k[++m] = $3 }
    END { if (n == 0 || n != m) { print "-"; exit } for (i = 1; i <= n; i++) print w[i] - k[i] }' "$work/samples" | sort -n |
    awk '{ v[NR] = $1 } END { if (NR == 0 || $1 == "-") { print "-"; exit }
      m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.1f\n", m / 1000 }'
}
med() { stat "$@" | cut -d' ' -f1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2f\n", a / b }'; }
{
  echo "## checkpoint and restore (CRIU $criu_version, ms: median (min-max) of $rounds interleaved rounds, $where)"
  echo
  echo "| step | casco | runc | casco/runc | CRIU's own (casco / runc) | the runtime's part (casco / runc) | crun |"
  echo "|---|---:|---:|---:|---:|---:|---|"
  for s in checkpoint restore; do
    l=dump; [ $s = restore ] && l=restore
    echo "| \`$s\` | $(stat casco $s) | $(stat runc $s) | $(ratio "$(med casco $s)" "$(med runc $s)") |" \
      "$(med casco criu-$l) / $(med runc criu-$l) | $(runtime casco $s $l) / $(runtime runc $s $l) | n/a (Debian's crun: no CRIU) |"
  done
} | tee "$work/table.md"
mkdir -p "$results"
cp "$work/table.md" "$results/checkpoint-latest.md"
