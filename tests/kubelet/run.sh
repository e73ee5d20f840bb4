#!/usr/bin/env bash
# A real kubelet on casco: Kubernetes' kubelet (built from the Go module
# proxy by build.sh) in standalone mode, static pods from a manifest
# directory, no API server, on containerd 2 (tests/cri/build.sh) with runc
# and casco as its runtime handlers, cgroup v1 with the cgroupfs driver.
# The same pods run once with runc as containerd's default runtime, once
# with casco (a standalone kubelet cannot resolve a RuntimeClass: that
# needs the API server), each case judged by what the kubelet's read-only
# port, crictl and the kernel report. pods.sh holds the cases.
#
# usage: tests/kubelet/run.sh [RUNC [CASCO]]   (make kubelet: the reference
#        runc of make runc-ref; default it when built, else Debian's, and <repo>/casco)
#
# Everything runs in its own mount, network and IPC namespaces (unshare):
# containerd, the kubelet, a CNI bridge of its own. Prints per handler
# `N passed, M failed`, the measurements side by side; exit 1 when casco
# fails a case runc passes or anything is left behind, 2 when the suite
# cannot run.
#
# Environment:
#   KUBELET_KEEP=1   keep the temp dir (kubelet and containerd logs)
#   KUBELET_PROBES   exec probes to measure over (default 60, one a second)
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
die() { echo "kubelet: $*" >&2; exit 2; }
[[ $(id -u) == 0 ]] || die "needs root"
t_start=$SECONDS
export GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}

SUITE=kubelet KEEP=${KUBELET_KEEP:-}
source "$repo/tests/cri/common.sh"
need_packages kubelet busybox-static containernetworking-plugins jq musl-tools iproute2 util-linux procps curl
ref_runc=/var/tmp/casco-runc/v1.5.3/runc
[[ -x $ref_runc ]] || ref_runc=/usr/sbin/runc
take_runtimes kubelet "${1:-$ref_runc}" "${2:-$repo/casco}"
trap cleanup EXIT
trap 'exit 130' INT TERM

# builds (cached) beside the images
t0=$SECONDS
"$here/build.sh" >"$T/logs/build.kubelet.log" 2>&1 &
b1=$!
"$repo/tests/cri/build.sh" containerd >"$T/logs/build.containerd.log" 2>&1 &
b2=$!
"$repo/tests/cri/build.sh" cri-tools >"$T/logs/build.cri-tools.log" 2>&1 &
b3=$!
"$repo/tests/cri/mkimages.sh" "$T/images" >"$T/logs/images.log" 2>&1 || { cat "$T/logs/images.log"; die "cannot make the images"; }
for b in $b1 $b2 $b3; do
	wait "$b" || { tail -n 30 "$T"/logs/build.*.log; die "a build failed"; }
done
KBIN=$(tail -n 1 "$T/logs/build.kubelet.log")
CBIN=$(tail -n 1 "$T/logs/build.containerd.log")
TOOLS=$(tail -n 1 "$T/logs/build.cri-tools.log")
cp "$KBIN/kubelet" "$TOOLS/crictl" "$T/bin/" || die "no kubelet or crictl"
echo "kubelet: builds and images ready in $((SECONDS - t0))s ($("$T/bin/kubelet" --version), containerd $("$CBIN/containerd" --version | awk '{print $3}'), runc $("$T/bin/runc" --version | awk 'NR == 1 {print $3}'))"

# libcni caches results in /var/lib/cni whatever the config says: the
# suite covers it with a tmpfs, the mount point is all the host sees
if [[ ! -e /var/lib/cni ]]; then mkdir /var/lib/cni && MADE_VARLIBCNI=1; fi
PATH=$CBIN:$T/bin:$PATH unshare --mount --net --ipc --fork --kill-child=SIGTERM \
	"$here/suite.sh" "$T/run" "$T/images/images.tar" "runc=$T/bin/runc" "casco=$T/bin/casco" >"$T/suite.log" 2>&1 &
suite_pids=($!)
wait "${suite_pids[0]}"
src=$?
suite_pids=()
sed 's/^/  /' "$T/suite.log"
[[ $src == 0 ]] || { echo "kubelet: the suite could not run (exit $src)"; exit 2; }

# ---------------------------------------------------------------- results
bad=0
R=$T/run/results
for h in runc casco; do
	read -r np nf < <(awk '$1 == "PASS" {p++} $1 == "FAIL" {f++} END {print p+0, f+0}' "$R/$h.cases" 2>/dev/null)
	echo "kubelet $h: ${np:-0} passed, ${nf:-0} failed"
done
while read -r st name _; do
	name=${name%:}
	cst=$(awk -v n="$name" '$2 == n || $2 == n":" {print $1}' "$R/casco.cases")
	[[ $st == PASS && $cst != PASS ]] || [[ $cst == FAIL && $st != FAIL ]] || continue
	echo "REGRESSION $name: runc $st, casco ${cst:-did not run}"
	bad=1
done <"$R/runc.cases"
for h in runc casco; do
	[[ -s $R/$h.leftovers ]] && { echo "LEFTOVERS $h:"; sed 's/^/  /' "$R/$h.leftovers"; bad=1; }
done
echo "== measured (median of the runs; CPU per exec probe in ms)"
awk -F'\t' 'BEGIN {printf "  %-76s %8s %8s\n", "", "runc", "casco"}
	FNR == NR {r[$1] = $2; order[++n] = $1; next} {c[$1] = $2; if (!($1 in r)) order[++n] = $1}
	END {for (i = 1; i <= n; i++) printf "  %-76s %8s %8s\n", order[i], r[order[i]], c[order[i]]}' "$R/runc.measure" "$R/casco.measure"

# nothing of ours outlives the suite
left=$(leftover_processes "$T/"; leftover_mounts "$T")
[[ -z $left ]] || { sed 's/^/LEFTOVER /' <<<"$left"; bad=1; }
for c in /sys/fs/cgroup/*/casco-kubelet-*; do
	[[ -d $c ]] || continue
	grep -q "$(cat "$T/run/cgroup-root" 2>/dev/null || echo none)" <<<"$c" || continue
	echo "LEFTOVER cgroup $c"; bad=1
done

echo "kubelet: $((SECONDS - t_start))s in all"
((bad)) && { echo "kubelet: FAILED (casco against runc above)"; exit 1; }
echo "kubelet: casco matches runc on every case"
