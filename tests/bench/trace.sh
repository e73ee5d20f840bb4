#!/bin/sh
# trace.sh CASCO_BINARY: where casco's start path spends its time.
# Runs `casco --trace run` TRACE_N times (default 20, after two warm-up
# runs) on the benchmark's default bundle (TRACE_BUNDLE=run; also nonet or
# seccomp) and prints the median of each traced step, with the part of the
# wall time the trace cannot see (process start before it; wait, delete and
# exit after it).
set -eu
. "$(dirname "$0")/lib.sh"

[ $# -eq 1 ] || die "usage: trace.sh CASCO_BINARY"
[ "$(id -u)" -eq 0 ] || die "must run as root"
casco=$(readlink -f "$1")
[ -x "$casco" ] || die "$1: not an executable"
need_pkgs runc busybox-static golang-github-containers-common

tag=casco-bench-trace-$$
work=$(mktemp -d /tmp/casco-bench.XXXXXX)
trap 'cleanup_leftovers "$work" "$tag"' EXIT
trap 'exit 130' INT TERM

build_tools "$work"
cp "$casco" "$work/bin/casco"
make_bundles "$work"
bundle=$work/bundles/${TRACE_BUNDLE:-run}
[ -f "$bundle/config.json" ] || die "no bundle ${TRACE_BUNDLE:-run}"
"$work/bin/driver" trace -casco "$work/bin/casco" -bundle "$bundle" -work "$work" -n "${TRACE_N:-20}" -tag "$tag"
