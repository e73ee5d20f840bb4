#!/bin/sh
# bench.sh CASCO_BINARY: casco against runc and crun, side by side.
#
# Every round runs each scenario for casco, then runc, then crun, so the
# three share the machine's state of the moment; ratios are taken within a
# round. Scenarios: sequential `run` of /bin/true (default spec, and without
# a network namespace), create/start/wait/delete split, the commands
# engines call on a running container (state, exec, exec -t, ps, events,
# update, kill, delete -f), parallel runs at 1-8 loops, `run` with podman's
# seccomp profile, and the cost of list/state/create with 10-1,000
# containers under the root; peak RSS and CPU of every command from wait4;
# what a node pays in memory (step memory): the PSS of a created
# container's parked init, each command's USS at its exit (under ptrace),
# the smallest memory limit `run /bin/true` survives.
# One config.json (runc's `spec`, edited by the driver) serves all three.
#
# Environment: BENCH_ROUNDS (5), BENCH_N (100 iterations per scenario and
# round), BENCH_STEPS (comma list, default all: run,nonet,phases,commands,
# stop,parallel,seccomp,scale,memory), BENCH_LOOPS (1,2,4,8), BENCH_LEVELS
# (10,100,1000), BENCH_RESULTS (output directory, default
# tests/bench/results).
#
# Output: RESULTS/latest.md and latest.png, and timestamped copies.
set -eu
. "$(dirname "$0")/lib.sh"

[ $# -eq 1 ] || die "usage: bench.sh CASCO_BINARY"
[ "$(id -u)" -eq 0 ] || die "must run as root"
casco=$(readlink -f "$1")
[ -x "$casco" ] || die "$1: not an executable"
rounds=${BENCH_ROUNDS:-5}
n=${BENCH_N:-100}
results=${BENCH_RESULTS:-$BENCH_DIR/results}

# runc is the reference runc (REF_RUNC, `make runc-ref`), today's runc
# that engines ship, not Debian's 1.1
runc=${REF_RUNC:-}
[ -x "$runc" ] || die "REF_RUNC=$runc: not an executable (make runc-ref builds it; make bench sets it)"
need_pkgs crun gnuplot-nox busybox-static golang-github-containers-common

tag=casco-bench-$$
work=$(mktemp -d /tmp/casco-bench.XXXXXX)
trap 'cleanup_leftovers "$work" "$tag"' EXIT
trap 'exit 130' INT TERM

echo "bench: load average at start: $(cut -d' ' -f1-3 /proc/loadavg)  (nproc $(nproc), kernel $(uname -r))"
build_tools "$work"
# a private copy: a concurrent `make casco` cannot swap the binary mid-run
cp "$casco" "$work/bin/casco"
# written back now: a fresh copy's page-cache pages stay dirty for ~30 s and
# would show as Private_Dirty in the memory step
sync "$work/bin/casco"
make_bundles "$work"
seccomp_note=""
[ -f "$work/seccomp-note" ] && seccomp_note="/usr/share/containers/seccomp.json converted by tests/bench/seccompconv: $(sed 's/^seccompconv: //' "$work/seccomp-note")"

mkdir -p "$results"
stamp=$(date -u +%Y%m%d-%H%M%S)
"$work/bin/driver" bench -spawn "$work/bin/spawn" -casco "$work/bin/casco" -runc "$runc" -crun "$(command -v crun)" \
	-work "$work" -rounds "$rounds" -n "$n" -tag "$tag" -steps "${BENCH_STEPS:-}" \
	-loops "${BENCH_LOOPS:-1,2,4,8}" -levels "${BENCH_LEVELS:-10,100,1000}" \
	-seccomp-note "$seccomp_note" -md "$work/report.md" -dat "$work"

title="casco, runc, crun — $(nproc) CPUs, kernel $(uname -r), $rounds rounds x $n, load $(cut -d' ' -f1 /proc/loadavg) at the end"
gnuplot -e "datadir='$work'; outfile='$work/chart.png'; charttitle='$title'" "$BENCH_DIR/chart.gp" ||
	echo "bench: gnuplot failed; no chart" >&2
{
	cat "$work/report.md"
	[ -f "$work/chart.png" ] && printf '\n![median ms per runtime per scenario](bench-%s.png)\n' "$stamp"
} >"$results/bench-$stamp.md"
sed "s/(bench-$stamp.png)/(latest.png)/" "$results/bench-$stamp.md" >"$results/latest.md"
if [ -f "$work/chart.png" ]; then
	cp "$work/chart.png" "$results/bench-$stamp.png"
	cp "$work/chart.png" "$results/latest.png"
fi
cat "$results/latest.md"
echo
echo "bench: load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "bench: wrote $results/latest.md, latest.png and bench-$stamp.*"
