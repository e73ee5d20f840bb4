#!/usr/bin/env bash
# Run the OCI runtime-tools (v0.9.0) validation suite against a runtime.
#
# usage: run.sh RUNTIME_BINARY [OUTDIR]
#
#   RUNTIME_BINARY  an OCI runtime with runc's command line (runc, casco...)
#   OUTDIR          where results go (default: tests/validation/out/<name>)
#
# Environment:
#   VALIDATION_TIMEOUT  seconds allowed per program (default 60)
#   VALIDATION_TESTS    space-separated subset of programs to run
#                       (default: all of them, in alphabetical order)
#   VALIDATION_ALLOW_SYSCALLS  space-separated syscalls added to the allow
#                       list of every config's seccomp profile before the
#                       runtime sees it (compare.sh: statx, for runc 1.5;
#                       see README.md). Needs jq.
#
# For every program OUTDIR gets PROG.tap (its TAP on stdout), PROG.err
# (stderr, when not empty) and PROG.cmds (each runtime command line the
# program ran). Also: results.tsv (prog, number, pass/fail/skip,
# description, detail; see tap-summary.awk), programs.tsv (prog, passed,
# failed, skipped, exit status, seconds, seconds spent cleaning up after
# it), cleanup.log (what had to be cleaned up after which program, if
# anything) and summary.txt.
#
# Exits 0 whatever the tests say; non-zero only when the suite cannot run.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bin=$here/bin

die() { echo "run.sh: $*" >&2; exit 2; }

[[ $# -ge 1 && $# -le 2 ]] || die "usage: run.sh RUNTIME_BINARY [OUTDIR]"
[[ $(id -u) == 0 ]] || die "the validation suite needs root"
runtime=$(command -v "$1") || die "runtime $1 not found"
runtime=$(readlink -f "$runtime")
[[ -x $runtime ]] || die "runtime $runtime is not executable"
rtname=$(basename "$runtime")
outdir=${2:-$here/out/$rtname}
limit=${VALIDATION_TIMEOUT:-60}

# The programs use fixed cgroup names (/cgrouptest, testdir/...), so two
# runs at once would trip over each other: take turns.
exec 9>/run/lock/casco-validation.lock 2>/dev/null || exec 9>/tmp/casco-validation.lock
if ! flock -n 9; then
	echo "run.sh: another validation run is going on; waiting for it" >&2
	flock 9
fi

"$here/build.sh" || die "build failed"
arch=$(PATH=$PATH:/usr/local/go/bin && cd "$here" && go env GOARCH)

if [[ -n ${VALIDATION_TESTS:-} ]]; then
	read -r -a programs <<<"$VALIDATION_TESTS"
	for p in "${programs[@]}"; do
		[[ -x $bin/$p ]] || die "no validation program $p"
	done
else
	programs=()
	for f in "$bin"/*; do
		p=$(basename "$f")
		[[ $p == runtimetest || $p == rootfs-* || ! -f $f || ! -x $f ]] && continue
		programs+=("$p")
	done
fi
((${#programs[@]})) || die "no validation programs in $bin"

mkdir -p "$outdir" || die "cannot create $outdir"
outdir=$(cd "$outdir" && pwd)
rm -f "$outdir"/*.tap "$outdir"/*.err "$outdir"/*.cmds \
	"$outdir"/results.tsv "$outdir"/programs.tsv "$outdir"/summary.txt

# The programs expect runtimetest and rootfs-$arch.tar.gz in their working
# directory and make their bundles with ioutil.TempDir, i.e. under $TMPDIR:
# give them a scratch directory of their own so that everything they leave
# is easy to find and remove.
work=$(mktemp -d /tmp/casco-validation.XXXXXX) || die "mktemp failed"
mkdir -p "$work/tmp"
cp "$bin/runtimetest" "$bin/rootfs-$arch.tar.gz" "$work/" || die "cannot stage runtimetest"

# Every runtime call goes through this wrapper, which logs the command line
# (so we know which container ids to clean up, and casco developers can see
# what the suite asked for) and then execs the real runtime. With
# VALIDATION_ALLOW_SYSCALLS it first adds those syscalls to the seccomp
# allow list of the bundle a create or run names (to a profile that does
# not allow everything anyway).
allow=$(printf '%s\n' ${VALIDATION_ALLOW_SYSCALLS:-} | awk 'NF { printf "%s\"%s\"", n++ ? "," : "", $1 }')
if [[ -n $allow ]]; then
	if ! command -v jq >/dev/null; then
		apt-get install -y jq >/dev/null 2>&1 ||
			{ apt-get update >/dev/null 2>&1 && apt-get install -y jq >/dev/null 2>&1; }
	fi
	command -v jq >/dev/null || die "VALIDATION_ALLOW_SYSCALLS needs jq (apt-get install jq)"
fi
cat >"$work/runtime" <<EOF
#!/bin/sh
printf '%s\n' "\$*" >>"\${CASCO_VALIDATION_CMDLOG:-/dev/null}"
allow='$allow'
if [ -n "\$allow" ] && { [ "\$1" = create ] || [ "\$1" = run ]; }; then
	bundle=.
	prev=
	for a in "\$@"; do
		case \$prev in --bundle|-b) bundle=\$a ;; esac
		case \$a in --bundle=*) bundle=\${a#--bundle=} ;; esac
		prev=\$a
	done
	cfg=\$bundle/config.json
	if [ -f "\$cfg" ] && jq -e '(.linux.seccomp.defaultAction // "SCMP_ACT_ALLOW") != "SCMP_ACT_ALLOW"' "\$cfg" >/dev/null; then
		# into the first unconditional allow rule: a rule more would be one
		# more test of runtimetest's and shift the numbers after it
		jq -c --argjson names "[\$allow]" '(.linux.seccomp.syscalls // []) as \$s
			| (\$s | map(.action == "SCMP_ACT_ALLOW" and ((.args // []) | length) == 0) | index(true)) as \$i
			| if \$i == null then .linux.seccomp.syscalls = \$s + [{names: \$names, action: "SCMP_ACT_ALLOW"}]
			  else .linux.seccomp.syscalls[\$i].names += \$names end' "\$cfg" >"\$cfg.allow" &&
			mv "\$cfg.allow" "\$cfg"
	fi
fi
exec '$runtime' "\$@"
EOF
chmod +x "$work/runtime"

tag=CASCO_VALIDATION_TAG=$work

mounts_tmp_before=$(grep -c /tmp /proc/self/mountinfo)
mounts_tmp_list_before=$(awk '$5 ~ /^\/tmp\// { print $5 }' /proc/self/mountinfo | sort)
list_ids() {
	# First column of `RUNTIME list`, without the header.
	timeout 10 "$runtime" list 2>/dev/null | awk 'NR > 1 || $1 != "ID" { print $1 }' | sort -u
}
ids_before=$(list_ids)
cgroup_dirs() {
	# Cgroups the suite's configs name (cgroups.AbsCgroupPath and
	# RelCgroupPath in runtime-tools), plus any named after one of the ids
	# given as arguments (runtimes name default cgroups after the id).
	local args=(-name cgrouptest -o -name testdir) id
	for id in "$@"; do args+=(-o -name "$id"); done
	find /sys/fs/cgroup -mindepth 2 -maxdepth 6 -type d \( "${args[@]}" \) \
		-prune -print 2>/dev/null | sort
}
cgroups_before=$(cgroup_dirs)

# ---------------------------------------------------------------------------
# Cleanup, run after every program and once more at the end.

kill_tagged() {
	# Processes started by the suite carry $tag in their environment
	# (containers get the environment from config.json and do not).
	local f pid
	for f in $(grep -lxzF "$tag" /proc/[0-9]*/environ 2>/dev/null); do
		pid=${f#/proc/}
		pid=${pid%/environ}
		[[ $pid == "$$" || $pid == "$BASHPID" ]] && continue
		kill -KILL "$pid" 2>/dev/null
	done
	return 0
}

created_ids() {
	# Last argument of every `create` that program $1 (default: any) ran.
	cat "$outdir"/"${1:-*}".cmds 2>/dev/null |
		awk '$1 == "create" && NF > 1 && $NF !~ /^-|\// { print $NF }' | sort -u
}

ours() {
	# Is container $1 one of the suite's? Either our create made it, or
	# its bundle is in the scratch directory.
	grep -qxF "$1" <<<"$(created_ids)" && return 0
	timeout 10 "$runtime" state "$1" 2>/dev/null | grep -qF "\"$work"
}

our_listed_ids() {
	local id
	for id in $(comm -13 <(printf '%s\n' "$ids_before") <(list_ids)); do
		ours "$id" && echo "$id"
	done
}

delete_containers() {
	local id n=0
	for id in $( (created_ids "$1"; our_listed_ids) | sort -u); do
		timeout 10 "$runtime" state "$id" >/dev/null 2>&1 || continue
		timeout 10 "$runtime" kill "$id" KILL >/dev/null 2>&1
		timeout 10 "$runtime" delete --force "$id" >/dev/null 2>&1 ||
			timeout 10 "$runtime" delete "$id" >/dev/null 2>&1
		n=$((n + 1))
	done
	echo "$n"
}

unmount_ours() {
	local m n=0
	# Mount points under the scratch dir, deepest first.
	while read -r m; do
		umount -l "$m" 2>/dev/null && n=$((n + 1))
	done < <(awk -v w="$work" 'index($5, w) == 1 { print $5 }' /proc/self/mountinfo | sort -r)
	echo "$n"
}

remove_cgroups() {
	local d n=0 ids
	ids=$(created_ids "$1")
	while read -r d; do
		[[ -z $d ]] && continue
		grep -qxF "$d" <<<"$cgroups_before" && continue
		# rmdir fails while a cgroup still has tasks: that is a leak we
		# report, not something to force.
		find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
		[[ -d $d ]] || n=$((n + 1))
	done < <(cgroup_dirs $ids)
	echo "$n"
}

cleanup_round() {
	kill_tagged
	local c m g
	c=$(delete_containers "$2")
	kill_tagged
	m=$(unmount_ours)
	g=$(remove_cgroups "$2")
	if [[ $c != 0 || $m != 0 || $g != 0 ]]; then
		echo "cleanup after $1: deleted $c container(s), unmounted $m, removed $g cgroup(s)" >>"$outdir/cleanup.log"
	fi
}

final_cleanup() {
	cleanup_round end ""
	rm -rf --one-file-system "$work" 2>/dev/null
	if [[ -e $work ]]; then
		unmount_ours >/dev/null
		rm -rf --one-file-system "$work"
	fi
}
trap 'final_cleanup; exit 3' INT TERM

# ---------------------------------------------------------------------------

rm -f "$outdir/cleanup.log"
: >"$outdir/results.tsv"
: >"$outdir/programs.tsv"
start_all=$(date +%s)
for p in "${programs[@]}"; do
	t0=$(date +%s.%N)
	(
		cd "$work" || exit 2
		export TMPDIR=$work/tmp RUNTIME=$work/runtime
		export CASCO_VALIDATION_CMDLOG=$outdir/$p.cmds "$tag"
		exec timeout -k 5 "$limit" "$bin/$p" >"$outdir/$p.tap" 2>"$outdir/$p.err" </dev/null 9>&-
	)
	rc=$?
	t1=$(date +%s.%N)
	secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
	cleanup_round "$p" "$p"
	t2=$(date +%s.%N)
	csecs=$(awk -v a="$t1" -v b="$t2" 'BEGIN { printf "%.1f", b - a }')
	awk -v prog="$p" -v rc="$rc" -v limit="$limit" -v errfile="$outdir/$p.err" -f "$here/tap-summary.awk" \
		"$outdir/$p.tap" >"$outdir/$p.rows"
	cat "$outdir/$p.rows" >>"$outdir/results.tsv"
	awk -F'\t' -v prog="$p" -v rc="$rc" -v secs="$secs" -v csecs="$csecs" '
		{ n[$3]++ }
		END { printf "%s\t%d\t%d\t%d\t%s\t%s\t%s\n", prog, n["pass"], n["fail"], n["skip"], rc, secs, csecs }
	' "$outdir/$p.rows" >>"$outdir/programs.tsv"
	rm -f "$outdir/$p.rows"
	[[ -s $outdir/$p.err ]] || rm -f "$outdir/$p.err"
	# Leftover bundles of this program.
	rm -rf --one-file-system "${work:?}"/tmp/* 2>/dev/null
done
elapsed=$(($(date +%s) - start_all))

final_cleanup
trap - INT TERM

# ---------------------------------------------------------------------------
# Leak check.

leaks=()
notes=()
mounts_tmp_after=$(grep -c /tmp /proc/self/mountinfo)
if ((mounts_tmp_after != mounts_tmp_before)); then
	# Other work on the machine may mount under /tmp too: only mounts
	# in the scratch dir or in a bundle (ocitest*) are the suite's.
	new_mounts=$(comm -13 <(printf '%s\n' "$mounts_tmp_list_before") \
		<(awk '$5 ~ /^\/tmp\// { print $5 }' /proc/self/mountinfo | sort))
	ours_left=$(grep -e "^$work" -e '/ocitest' <<<"$new_mounts")
	if [[ -n $ours_left ]]; then
		leaks+=("mounts under /tmp: $mounts_tmp_before before, $mounts_tmp_after after: $(echo $ours_left)")
	else
		notes+=("mounts under /tmp: $mounts_tmp_before before, $mounts_tmp_after after, none of them the suite's${new_mounts:+: $(echo $new_mounts)}")
	fi
fi
left_ids=$(our_listed_ids)
[[ -n $left_ids ]] && leaks+=("containers still listed: $(echo $left_ids)")
left_cg=$(comm -13 <(printf '%s\n' "$cgroups_before") <(cgroup_dirs $(created_ids)))
[[ -n $left_cg ]] && leaks+=("cgroups left: $(echo $left_cg)")
[[ -e $work ]] && leaks+=("scratch dir left: $work")

# ---------------------------------------------------------------------------
# Summary.

{
	echo "runtime: $runtime"
	echo "programs: ${#programs[@]}, timeout ${limit}s each, took ${elapsed}s"
	echo
	printf '%-34s %5s %5s %5s %5s %6s %6s\n' PROGRAM PASS FAIL SKIP RC SECS CLEAN
	awk -F'\t' '{ printf "%-34s %5d %5d %5d %5s %6s %6s\n", $1, $2, $3, $4, $5, $6, $7 }' "$outdir/programs.tsv"
	echo
	fails=$(awk -F'\t' '$3 == "fail"' "$outdir/results.tsv")
	if [[ -n $fails ]]; then
		echo "failing tests:"
		awk -F'\t' '$3 == "fail" {
			printf "  %s #%s: %s\n", $1, $2, $4
			if ($5 != "")
				printf "      %s\n", (length($5) > 200 ? substr($5, 1, 200) "..." : $5)
		}' "$outdir/results.tsv"
		echo
	fi
	for l in "${notes[@]}"; do echo "note: $l"; done
	if ((${#leaks[@]})); then
		for l in "${leaks[@]}"; do echo "LEAK: $l"; done
	else
		echo "cleanup: no containers, mounts, cgroups or bundles left behind"
	fi
	awk -F'\t' '{ n[$3]++ } END { printf "validation: %d passed, %d failed, %d skipped\n", n["pass"], n["fail"], n["skip"] }' \
		"$outdir/results.tsv"
} | tee "$outdir/summary.txt"
exit 0
