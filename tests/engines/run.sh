#!/usr/bin/env bash
# Drive an OCI runtime with real engines, as users do: podman, containerd
# (ctr + the runc v2 shim) and dockerd, all from Debian's packages, each
# with its own state, sockets and cgroups under one temp dir.
#
# usage: tests/engines/run.sh [RUNTIME_BINARY...]
#        (default: Debian's runc and <repo>/casco; `make test-engines`)
#
# Every case runs against every runtime, so a case that fails with casco
# but passes with runc is known to be casco's. Prints one line per case
#   PASS|FAIL engine case runtime
# then a table (one column per runtime) and `engines: N passed, M failed`.
# Exit status: 1 if a case fails with some runtime and passes with the
# baseline (the first runtime named runc, else the first one given), 2 if
# the suite cannot run, else 0.
#
# The cases of each engine, with its set-up and helpers, are in podman.sh,
# containerd.sh and docker.sh, which this file sources; what all of them
# share (the case runner, ptys, leftovers, the view and checkpoint cases)
# is here.
#
# Each runtime is called through a wrapper that logs every command line the
# engine sent (argv, what stdin is, exit code, and on failure the last lines
# of the runtime's --log file) to $T/rt/<label>/calls.log; a failing case
# prints the calls made during it.
#
# Environment:
#   ENGINES          engines to run, in order (default "podman containerd docker")
#   ENGINES_CASES    only cases whose name matches this extended regex
#   ENGINES_TIMEOUT  seconds allowed per engine command (default 60)
#   ENGINES_KEEP=1   keep the temp dir (logs) after the run; daemons and
#                    containers are always stopped and removed
#   ENGINES_STORAGE  podman storage driver: overlay (default) or vfs
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
die() { echo "engines: $*" >&2; exit 2; }
[[ $(id -u) == 0 ]] || die "needs root"

ENGINES=${ENGINES:-podman containerd docker}
TMO=${ENGINES_TIMEOUT:-60}
CASES_RE=${ENGINES_CASES:-}
STORAGE=${ENGINES_STORAGE:-overlay}

# ---------------------------------------------------------------- packages
need_pkgs=(tmux busybox-static procps) # Debian's runc comes with each engine package (a dependency); the suite runs the reference
for e in $ENGINES; do
	case $e in
	podman) need_pkgs+=(podman conmon uidmap catatonit golang-github-containers-common) ;;
	containerd) need_pkgs+=(containerd) ;;
	docker) need_pkgs+=(docker.io containerd) ;;
	*) die "unknown engine $e (podman, containerd, docker)" ;;
	esac
done
missing=()
for p in "${need_pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if ((${#missing[@]})); then
	echo "engines: installing ${missing[*]}"
	{ apt-get -o DPkg::Lock::Timeout=900 update -q && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -q --no-install-recommends "${missing[@]}"; } >/dev/null ||
		die "apt-get install ${missing[*]} failed"
fi

# ---------------------------------------------------------------- runtimes
if (($# == 0)); then
	set -- /var/tmp/casco-runc/v1.5.3/runc "$repo/casco" # the reference runc (make runc-ref)
fi
labels=()   # runc, casco, ... (basename, made unique)
declare -A rt_real
for r in "$@"; do
	p=$(command -v "$r") || die "runtime $r not found"
	p=$(readlink -f "$p")
	[[ -x $p && -f $p ]] || die "runtime $p is not an executable file"
	l=$(basename "$p")
	l=${l//[^A-Za-z0-9_.-]/_}
	while [[ -n ${rt_real[$l]:-} ]]; do l=$l-$((${#labels[@]} + 1)); done
	labels+=("$l")
	rt_real[$l]=$p
done
baseline=${labels[0]}
for l in "${labels[@]}"; do
	[[ $(basename "${rt_real[$l]}") == runc ]] && { baseline=$l; break; }
done

# ---------------------------------------------------------------- temp dir, cleanup
T=$(mktemp -d /tmp/casco-engines.XXXX) || die "mktemp failed"
T=$(cd "$T" && pwd)
sfx=${T##*.}
CGP=casco-engines-$sfx      # cgroup parent of every container of this run
NS=casco-engines-$sfx       # containerd namespace for ctr
mkdir -p "$T/logs" "$T/rt"
pids_to_stop=()             # daemons we started: "name pid"
cleanups=()                 # functions run at exit, last first

cleanup() {
	local rc=$? i
	trap - EXIT INT TERM
	for ((i = ${#cleanups[@]} - 1; i >= 0; i--)); do "${cleanups[i]}" >>"$T/logs/cleanup.log" 2>&1; done
	stop_daemons >>"$T/logs/cleanup.log" 2>&1
	[[ -n ${CTD:-} ]] && kill_our_shims >>"$T/logs/cleanup.log" 2>&1
	[[ -n ${RUN_CONTAINERD_OURS:-} ]] && rmdir /run/containerd/s /run/containerd 2>/dev/null
	# containers an engine left behind in a runtime's state dirs
	local l root id
	for l in "${labels[@]}"; do
		[[ -f $T/rt/$l/roots ]] || continue
		for root in $(sort -u "$T/rt/$l/roots"); do
			[[ -d $root ]] || continue
			for id in $("${rt_real[$l]}" --root "$root" list -q 2>/dev/null); do
				echo "leftover $l container $id in $root" >>"$T/logs/cleanup.log"
				timeout 20 "${rt_real[$l]}" --root "$root" delete --force "$id" >>"$T/logs/cleanup.log" 2>&1
			done
		done
	done
	# mounts below the temp dir (overlay layers, shm, ...), deepest first
	local m
	for m in $(findmnt -rn -o TARGET | grep -F "$T/" | sort -r); do umount -l "$m" 2>/dev/null; done
	# our cgroups, deepest first
	local h
	for h in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do
		[[ -d $h$CGP ]] || continue
		find "$h$CGP" -depth -type d -exec rmdir {} \; 2>/dev/null
		[[ -d $h$CGP ]] && echo "cgroup $h$CGP left behind" >>"$T/logs/cleanup.log"
	done
	if [[ ${ENGINES_KEEP:-} == 1 ]]; then
		echo "engines: logs kept in $T"
	else
		rm -rf "$T" 2>/dev/null || { sleep 1; rm -rf "$T" 2>/dev/null; } ||
			echo "engines: could not remove $T" >&2
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# stop every daemon we started, by pid, newest first; SIGKILL after 15 s
stop_daemons() {
	local i name pid n
	for ((i = ${#pids_to_stop[@]} - 1; i >= 0; i--)); do
		read -r name pid <<<"${pids_to_stop[i]}"
		kill -0 "$pid" 2>/dev/null || continue
		echo "stopping $name (pid $pid)"
		kill -TERM "$pid"
		for ((n = 0; n < 150; n++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -0 "$pid" 2>/dev/null && { echo "$name did not stop: SIGKILL"; kill -KILL "$pid"; }
		wait "$pid" 2>/dev/null
	done
	pids_to_stop=()
}

# ---------------------------------------------------------------- runtime wrappers
# $T/rt/<label>/<kind>/<label>: logs argv, stdin, exit code, then runs the
# real binary. kind "podman" also puts the runtime's state under the temp
# dir (podman passes --runtime-flag only to create and start, not to exec,
# kill or delete, so it cannot be done with podman's own flags).
mkwrapper() { # label kind [extra args placed before the engine's]
	local l=$1 kind=$2; shift 2
	local dir=$T/rt/$l/$kind
	mkdir -p "$dir"
	{
		echo '#!/bin/bash'
		printf 'log=%q real=%q roots=%q\n' "$T/rt/$l/calls.log" "$T/rt/$l/bin" "$T/rt/$l/roots"
		if (($#)); then printf 'extra=(%s)\n' "$(printf '%q ' "$@")"; else echo 'extra=()'; fi
		cat <<'EOF'
# every state dir the runtime is given, for the cleanup
for ((i = 1; i <= $#; i++)); do
	a=${!i}; r=
	case $a in --root) j=$((i + 1)); r=${!j} ;; --root=*) r=${a#--root=} ;; esac
	[[ -n $r ]] && ! grep -qxF -- "$r" "$roots" 2>/dev/null && echo "$r" >>"$roots"
done
t0=$(date +%s%N)
{ printf '%s pid=%s ppid=%s(%s) stdin=%s argv:' "$(date +%T.%N)" $$ $PPID "$(cat /proc/$PPID/comm 2>/dev/null)" "$(readlink /proc/$$/fd/0 2>/dev/null || echo closed)"; printf ' %q' "$@"; echo; } >>"$log"
"$real" "${extra[@]}" "$@"
rc=$?
printf '  pid=%s rc=%s (%s ms)\n' $$ $rc $((($(date +%s%N) - t0) / 1000000)) >>"$log"
if [[ $rc != 0 ]]; then
	lf=
	for ((i = 1; i <= $#; i++)); do
		a=${!i}
		case $a in --log) j=$((i + 1)); lf=${!j} ;; --log=*) lf=${a#--log=} ;; esac
	done
	[[ -n $lf && -f $lf ]] && tail -n 3 "$lf" | sed 's/^/  log: /' >>"$log"
fi
exit $rc
EOF
	} >"$dir/$l"
	chmod +x "$dir/$l"
}
for l in "${labels[@]}"; do
	mkdir -p "$T/rt/$l" && cp "${rt_real[$l]}" "$T/rt/$l/bin" || die "cannot copy ${rt_real[$l]}"
	: >"$T/rt/$l/calls.log"
	mkwrapper "$l" plain
	mkwrapper "$l" podman --root "$T/rt/$l/state-podman"
	echo "$T/rt/$l/state-podman" >"$T/rt/$l/roots"
done

# ---------------------------------------------------------------- the image
# a busybox-static rootfs as a plain tar (podman import, docker import) and
# as an OCI image archive (ctr images import), made here: no registry
mkimage() {
	local r=$T/image/rootfs a
	mkdir -p "$r"/{bin,dev,etc,proc,root,sys,tmp} && chmod 1777 "$r/tmp"
	cp "$(command -v busybox || echo /bin/busybox)" "$r/bin/busybox" || return 1
	for a in $("$r/bin/busybox" --list); do [[ -e $r/bin/$a ]] || ln -s busybox "$r/bin/$a"; done
	echo "root:x:0:0:root:/root:/bin/sh" >"$r/etc/passwd"
	echo "root:x:0:" >"$r/etc/group"
	tar --numeric-owner -C "$r" -cf "$T/image/busybox.tar" . || return 1
	# OCI image layout
	local o=$T/image/oci arch diffid lsize cfg cdig csize man mdig msize
	arch=$(dpkg --print-architecture)
	mkdir -p "$o/blobs/sha256"
	diffid=$(sha256sum <"$T/image/busybox.tar" | cut -d' ' -f1)
	lsize=$(stat -c %s "$T/image/busybox.tar")
	cp "$T/image/busybox.tar" "$o/blobs/sha256/$diffid"
	cfg='{"architecture":"'$arch'","os":"linux","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":["sha256:'$diffid'"]}}'
	cdig=$(printf '%s' "$cfg" | sha256sum | cut -d' ' -f1)
	csize=${#cfg}
	printf '%s' "$cfg" >"$o/blobs/sha256/$cdig"
	man='{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:'$cdig'","size":'$csize'},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:'$diffid'","size":'$lsize'}]}'
	mdig=$(printf '%s' "$man" | sha256sum | cut -d' ' -f1)
	msize=${#man}
	printf '%s' "$man" >"$o/blobs/sha256/$mdig"
	printf '%s' '{"imageLayoutVersion":"1.0.0"}' >"$o/oci-layout"
	printf '%s' '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:'$mdig'","size":'$msize',"annotations":{"io.containerd.image.name":"'$IMG'","org.opencontainers.image.ref.name":"engines"}}]}' >"$o/index.json"
	tar -C "$o" -cf "$T/image/busybox-oci.tar" . || return 1
}
IMG=localhost/busybox:engines
mkimage || die "cannot make the busybox image"

# ---------------------------------------------------------------- cases
declare -A result   # "engine|case|label" -> PASS/FAIL
case_keys=()        # "engine|case", in order
npass=0 nfail=0

# runcase ENGINE CASE LABEL FUNCTION [ARGS...]: run one case, print its line
runcase() {
	local eng=$1 cs=$2 l=$3; shift 3
	[[ -n $CASES_RE && ! "$eng $cs" =~ $CASES_RE ]] && return 0
	local key="$eng|$cs" log=$T/logs/$eng.$cs.$l.log mark res
	[[ " ${case_keys[*]} " == *" $key "* ]] || case_keys+=("$key")
	mark=$(wc -l <"$T/rt/$l/calls.log")
	local t0=$SECONDS
	if ("$@") >"$log" 2>&1 </dev/null; then res=PASS; else res=FAIL; fi
	# a case that passed without calling the runtime under test proves
	# nothing about it (ctr run --uidmap, for one, drops --runc-binary)
	if [[ $res == PASS && ! $cs =~ ^($NO_RUNTIME_CALL)$ ]] && (($(wc -l <"$T/rt/$l/calls.log") == mark)); then
		echo "FAIL: the engine never called $l during this case" >>"$log"
		res=FAIL
	fi
	if [[ $res == PASS ]]; then ((npass++)); else ((nfail++)); fi
	result["$key|$l"]=$res
	echo "$res $eng $cs $l"
	if [[ $res == FAIL ]]; then
		sed 's/^/    | /' "$log" | tail -n 40
		echo "    runtime calls during the case ($l):"
		tail -n +$((mark + 1)) "$T/rt/$l/calls.log" | cut -c1-1500 | sed 's/^/    > /' | tail -n 40
	fi
	echo "  ($((SECONDS - t0))s) $eng $cs $l" >>"$T/logs/times.log"
	return 0
}

# cases that need no runtime call (the engine answers them alone)
NO_RUNTIME_CALL='logs|rm|leftovers'

# helpers for the case functions: every step is echoed into the case log
run() { echo "+ ${*@Q}"; timeout -k 5 "$TMO" "$@"; }
fail() { echo "FAIL: $*"; return 1; }
want_eq() { # got want what
	[[ $1 == "$2" ]] || fail "$3: got '$1', want '$2'"
}
want_in() { # haystack needle what
	[[ $1 == *"$2"* ]] || fail "$3: '$2' not in: $1"
}
# wait_for SECONDS CMD...: until CMD succeeds
wait_for() {
	local n=$(($1 * 10)); shift
	while ((n-- > 0)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
	"$@"
}

# --- terminals: a tmux server of our own, one session per pty case
TMUX_SOCK=$T/tmux.sock
tmx() { tmux -S "$TMUX_SOCK" -f /dev/null "$@"; }
# pty_start NAME SCRIPT: run SCRIPT (a file) in a 120x30 pty; its exit
# code lands in $T/pty/NAME.rc, everything it printed in $T/pty/NAME.out
pty_start() {
	local name=$1 script=$2
	mkdir -p "$T/pty"
	rm -f "$T/pty/$name.rc" "$T/pty/$name.out"
	tmx new-session -d -s "$name" -x 120 -y 30 "bash $script; echo \$? > $T/pty/$name.rc" || return 1
	tmx pipe-pane -t "$name" -o "cat >> $T/pty/$name.out"
}
pty_stop() { tmx kill-session -t "$1" 2>/dev/null; return 0; }
pty_send() { tmx send-keys -t "$1" "$2" Enter; }
pty_screen() { tmx capture-pane -p -J -S -200 -t "$1" 2>/dev/null || cat "$T/pty/$1.out" 2>/dev/null; }
# pty_expect NAME REGEX SECONDS: until the session's output matches
pty_expect() {
	local n=$(($3 * 10))
	while ((n-- > 0)); do
		grep -Eq "$2" "$T/pty/$1.out" 2>/dev/null && return 0
		[[ -f $T/pty/$1.rc ]] && break
		sleep 0.1
	done
	grep -Eq "$2" "$T/pty/$1.out" 2>/dev/null && return 0
	echo "--- pty $1 output:"; tr -d '\r' <"$T/pty/$1.out" 2>/dev/null | tail -n 20
	fail "pty $1: no output matching /$2/ within $3 s"
}
pty_rc() { # NAME SECONDS: print the exit code once the session ended
	local n=$(($2 * 10))
	while ((n-- > 0)); do [[ -s $T/pty/$1.rc ]] && { cat "$T/pty/$1.rc"; return 0; }; sleep 0.1; done
	echo "timeout"
	tmx kill-session -t "$1" 2>/dev/null
	return 1
}
# the interactive check, same for every engine: prove the process runs on
# a pty of the right size, reads what is typed, and exits with our code
pty_check() { # NAME EXIT_CODE
	local s=$1 code=$2
	pty_expect "$s" '[#$] ' 30 || return 1
	# the engine sets the window size after the start (docker: from the
	# client, a moment later): wait for it inside rather than race it
	pty_send "$s" 'tty; for i in 1 2 3 4 5 6 7 8 9 10; do z=$(stty size 2>&1) && [ "$z" != "0 0" ] && break; sleep 0.3; done; echo "size: $z, six times seven is $((6*7))"' || return 1
	pty_expect "$s" 'six times seven is 42' 20 || return 1
	pty_expect "$s" '^/dev/pts/[0-9]+' 5 || return 1
	if ! grep -q 'size: 30 120,' "$T/pty/$s.out"; then
		# docker's first resize is known to get lost under load
		# (docker/cli#3554, moby#35407): then a resize of the window
		# (SIGWINCH to the client) must reach the container's pty
		echo "NOTE: no initial window size; resizing the window to 100x25"
		tmx resize-window -t "$s" -x 100 -y 25 || return 1
		# the resize reaches the container's pty when the engine relays it: wait for it inside
		pty_send "$s" 'for i in $(seq 1 60); do [ "$(stty size)" = "25 100" ] && break; sleep 0.5; done; echo "now: $(stty size)"' || return 1
		pty_expect "$s" 'now: 25 100' 40 || return 1
	fi
	# the pty is the controlling terminal of the process: ^C interrupts the foreground job
	# (the shell says when it starts the job: typed, the word is split)
	pty_send "$s" 'echo "job-""started"; sleep 1000' || return 1
	pty_expect "$s" 'job-started' 20 || return 1
	sleep 0.5
	tmx send-keys -t "$s" C-c || return 1
	pty_send "$s" 'echo "interrupted: $?"' || return 1
	pty_expect "$s" 'interrupted: 130' 10 || return 1
	pty_send "$s" "exit $code" || return 1
	local rc
	rc=$(pty_rc "$s" 30)
	want_eq "$rc" "$code" "exit code through the pty" || { tr -d '\r' <"$T/pty/$s.out" | tail -n 20; return 1; }
}

# ---------------------------------------------------------------- leftovers
# what an engine's containers of one runtime may leave behind once the
# engine removed them all: cgroups below /$CGP/<engine>, containers in the
# runtime's state dirs, mounts below the temp dir
# (podman's conmon cgroup is the engine's, shared by all its containers)
snapshot() { # engine
	local h r l
	for h in /sys/fs/cgroup/*/"$CGP/$1"; do
		[[ -d $h ]] && find "$h" -mindepth 1 -type d ! -name conmon | sed 's/^/cgroup /'
	done
	for l in "${labels[@]}"; do
		[[ -f $T/rt/$l/roots ]] || continue
		for r in $(sort -u "$T/rt/$l/roots"); do
			[[ -d $r ]] && "$T/rt/$l/bin" --root "$r" list -q 2>/dev/null | sed "s|^|container $r |"
		done
	done
	# (the storage drivers' homes are mounted once, by the engine)
	findmnt -rn -o TARGET | grep -F "$T/" | grep -vxE '.*/(overlay|overlay2)' | sed 's/^/mount /'
	return 0
}
snap_before() { snapshot "$1" | sort -u >"$T/logs/snap.$1.$2"; }
snap_new() { snapshot "$1" | sort -u | comm -13 "$T/logs/snap.$1.$2" -; }
leftovers() { # engine label
	local n=50 new
	while ((n-- > 0)); do
		new=$(snap_new "$1" "$2")
		[[ -z $new ]] && return 0
		sleep 0.1
	done
	echo "$new"
	fail "left behind after the engine removed every container"
}

# ================================================================ the engines
# each engine's set-up, helpers and cases: podman.sh, containerd.sh, docker.sh
for e in podman containerd docker; do . "$here/$e.sh"; done

# ================================================================ what every engine runs

pm() { # label podman-args...: podman with that runtime
	local l=$1; shift
	run "${PODMAN[@]}" --runtime "$T/rt/$l/podman/$l" "$@"
}
# a long-lived container that logs, exits 0 on TERM, says USR1
daemon_cmd=(sh -c 'trap "echo got TERM; exit 0" TERM; trap "echo got USR1" USR1; echo started; while :; do sleep 0.2; done')
ct() { run "${CTR[@]}" "$@"; }
ctopts() { # label id: ctr run options for that runtime and container id
	printf '%s\n' --runc-binary "$T/rt/$1/plain/$1" --runc-root "$T/rt/$1/state-ctr" \
		--fifo-dir "$CTD/fifo" --cgroup "/$CGP/ctr/$2"
}

# -v SRC:DST:rshared (docker, podman; Kubernetes' Bidirectional): a mount
# made in the container shows on the host
propagation_check() { # engine label command...: the command runs the container
	local e=$1 l=$2 dir=$T/prop-$1-$2 out rc; shift 2
	mkdir -p "$dir" && mount --bind "$dir" "$dir" && mount --make-shared "$dir" || return 1
	mkdir -p "$dir/sub"
	out=$("$@" "$dir" 2>&1)
	rc=$?
	echo "$out"
	local seen=no
	findmnt -rn -o TARGET | grep -qx "$dir/sub" && seen=yes
	umount "$dir/sub" 2>/dev/null; umount "$dir/sub" 2>/dev/null; umount "$dir"
	want_eq "$rc" 0 "exit code" || return 1
	want_eq "$seen" yes "the container's mount under an rshared volume reached the host"
}

rm_cgroup() { # path below every hierarchy: true once it is gone everywhere
	local h ok=0
	for h in /sys/fs/cgroup/*/; do
		[[ -d $h$1 ]] || continue
		find "$h$1" -depth -type d -exec rmdir {} \; 2>/dev/null
		[[ -d $h$1 ]] && ok=1
	done
	return $ok
}

# the device cgroup allows what the engine's spec lists, and runc's
# defaults, nothing more: /dev/fuse (c 10:229) is not among them
fuse_script='mknod /tmp/fuse c 10 229 || exit 3; if (exec 3<>/tmp/fuse) 2>/dev/null; then echo "fuse opened"; else echo "fuse denied"; fi'

# ---------------------------------------------------------------- the container's view, runtime against baseline
# What the process sees, normalised: identity, env, capabilities, limits,
# oom score, mounts, /dev, device cgroup. Each runtime's view must equal the
# baseline runtime's, for the init and for an exec'd process.
write_view_script() {
	cat >"$T/view.sh" <<'EOF'
echo "== id: $(id)"; echo "== umask: $(umask)"; echo "== cwd: $(pwd)"
echo "== env:"; env | grep -v -E '^(HOSTNAME|PWD|SHLVL|_)=' | sort
echo "== status:"; grep -E '^(Cap|NoNewPrivs|Seccomp|Groups)' /proc/self/status | tr -d '\t'
echo "== limits:"; tail -n +2 /proc/self/limits | sed 's/  */ /g'
echo "== oom_score_adj: $(cat /proc/self/oom_score_adj)"
echo "== mounts:"; awk '{ o=$6; sub(/,?relatime/,"",o); print $5, $9, o }' /proc/self/mountinfo | sort
echo "== dev:"; ls -l /dev | awk 'NR>1 {print $1, $5, $6, $NF}' | sort
echo "== devices.list:"; cat /sys/fs/cgroup/devices/devices.list 2>/dev/null | sort
echo "== namespaces: $(ls /proc/self/ns | wc -l)"
EOF
}
# view_case ENGINE LABEL FUNCTION: FUNCTION LABEL OUTFILE writes a view
view_case() {
	local e=$1 l=$2 fn=$3 mine=$T/logs/view.$1.$3.$2 base=$T/logs/view.$1.$3.$baseline
	"$fn" "$l" "$mine" || { cat "$mine"; fail "no view"; return 1; }
	[[ $l == "$baseline" ]] && { cat "$mine"; return 0; }
	[[ -s $base ]] || "$fn" "$baseline" "$base" >/dev/null 2>&1 || fail "no view with $baseline" || return 1
	# the "+ command" echo names the runtime under test: not part of the view
	if ! diff -U0 <(grep -v "^+ " "$base") <(grep -v "^+ " "$mine") >"$mine.diff"; then
		local lines known=$here/view-differences.txt
		lines=$(grep -E '^[-+][^-+]' "$mine.diff")
		# a difference listed as deliberate (with its reason) is accepted, and said
		if ! grep -vxF -f <(grep -v '^#' "$known") <<<"$lines" >/dev/null; then
			sed 's/^/    deliberate (view-differences.txt): /' <<<"$lines"
			return 0
		fi
		grep -vxF -f <(grep -v '^#' "$known") <<<"$lines" | head -n 30
		fail "the view differs from $baseline's (- $baseline, + $l)"
		return 1
	fi
}

# ---------------------------------------------------------------- checkpoint and restore (CRIU)
# The engines drive the runtime's checkpoint and restore, which drive CRIU.
# Where CRIU cannot work at all (`criu check` fails: Debian's CRIU 3.17 on
# kernels >= 6.13) the cases are skipped for every runtime,
# saying why; ENGINES_CHECKPOINT=1 runs them anyway (both runtimes then fail
# in CRIU). They run for real in the systemd guest (kernel 6.1, Debian's
# criu in its image): tests/systemd/guest-engines.sh's podman_checkpoint
# and containerd_checkpoint, casco beside runc (make systemd).
criu_skip_reason() {
	command -v criu >/dev/null || { echo "criu is not installed"; return; }
	local out
	out=$(criu check 2>&1) || echo "CRIU cannot work on this kernel: $(grep -m1 Error <<<"$out")"
}
CRIU_SKIP=
# checkpoint_case ENGINE CASE LABEL FUNCTION ARGS...: runcase, or say why not
checkpoint_case() {
	[[ -n $CASES_RE && ! "$1 $2" =~ $CASES_RE ]] && return 0
	if [[ ${ENGINES_CHECKPOINT:-} != 1 ]]; then
		[[ -n $CRIU_SKIP ]] || CRIU_SKIP=$(criu_skip_reason)
		[[ -n $CRIU_SKIP && $CRIU_SKIP != ok ]] && { echo "SKIP $1 $2 $3: $CRIU_SKIP"; return 0; }
		CRIU_SKIP=${CRIU_SKIP:-ok}
	fi
	runcase "$@"
}
count_cmd=(sh -c 'i=0; while :; do i=$((i+1)); echo $i; sleep 0.1; done')
# last_count FILE-OR-TEXT: the last number counted
last_count() { grep -E '^[0-9]+$' | tail -n1; }


# ================================================================ main
# the tmux server, started here so that its pid is known to the cleanup
mkdir -p "$T/pty"
write_view_script
tmx new-session -d -s keep -x 120 -y 30 "sleep 100000" || die "tmux does not start"
pids_to_stop+=("tmux $(tmx display -p -t keep '#{pid}')")
echo "engines: runtimes: $(for l in "${labels[@]}"; do printf '%s=%s ' "$l" "${rt_real[$l]}"; done)(baseline $baseline); temp dir $T"
for e in $ENGINES; do
	case $e in
	podman)
		if podman_setup; then podman_cases; else
			echo "FAIL podman setup"; cat "$T/logs/podman.import.log"; ((nfail++)); fi ;;
	containerd)
		if containerd_setup >"$T/logs/containerd.setup.log" 2>&1; then containerd_cases; else
			echo "FAIL containerd setup"; cat "$T/logs/containerd.setup.log"; ((nfail++)); fi ;;
	docker)
		if docker_setup >"$T/logs/docker.setup.log" 2>&1; then docker_cases; else
			echo "FAIL docker setup"; cat "$T/logs/docker.setup.log"; ((nfail++)); fi ;;
	esac
done

# ---------------------------------------------------------------- report
echo
printf '%-12s %-22s' engine case
for l in "${labels[@]}"; do printf ' %-8s' "$l"; done
echo
regress=0
for key in "${case_keys[@]}"; do
	IFS='|' read -r eng cs <<<"$key"
	printf '%-12s %-22s' "$eng" "$cs"
	for l in "${labels[@]}"; do printf ' %-8s' "${result[$key|$l]:--}"; done
	b=${result[$key|$baseline]:-}
	for l in "${labels[@]}"; do
		[[ ${result[$key|$l]:-} == FAIL ]] || continue
		if ((${#labels[@]} == 1)) || [[ $l != "$baseline" && $b == PASS ]]; then
			printf '  <- fails with %s only' "$l"; regress=1
		elif [[ $l == "$baseline" ]]; then
			printf '  (fails with %s: not counted against the others)' "$baseline"
		fi
	done
	echo
done
echo "engines: $((SECONDS)) s"
echo "engines: $npass passed, $nfail failed"
exit $regress
