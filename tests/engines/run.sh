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

# ================================================================ podman
podman_setup() {
	local d=$T/podman l rts="" js='"crun"'
	mkdir -p "$d"
	for l in "${labels[@]}"; do
		rts+="$l = [\"$T/rt/$l/podman/$l\"]"$'\n'
		js+=", \"$l\""
	done
	js+=', "runc"'
	# no CAP_SYS_RESOURCE here: podman's default nofile and nproc
	# (1048576) cannot be set, so lower them
	cat >"$d/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$d/events.log"
runtime_supports_json = [$js]
[engine.runtimes]
$rts
EOF
	cat >"$d/storage.conf" <<EOF
[storage]
driver = "$STORAGE"
runroot = "$d/runroot"
graphroot = "$d/root"
EOF
	export CONTAINERS_CONF=$d/containers.conf CONTAINERS_STORAGE_CONF=$d/storage.conf
	export CONTAINERS_REGISTRIES_CONF=$d/registries.conf
	: >"$d/registries.conf"
	PODMAN=(podman --root "$d/root" --runroot "$d/runroot" --tmpdir "$d/tmp"
		--storage-driver "$STORAGE" --cgroup-manager cgroupfs --events-backend file
		--network-config-dir "$d/net" --volumepath "$d/volumes")
	cleanups+=(podman_cleanup)
	run "${PODMAN[@]}" import "$T/image/busybox.tar" "$IMG" >"$T/logs/podman.import.log" 2>&1
}
podman_cleanup() {
	local l
	for l in "${labels[@]}"; do
		timeout 60 "${PODMAN[@]}" --runtime "$T/rt/$l/podman/$l" rm -af -t 0
	done
	# conmon processes of this run that outlived their containers
	local p
	for p in $(pgrep -x conmon); do
		grep -qF -- "$T/podman" "/proc/$p/cmdline" 2>/dev/null && kill "$p"
	done
	timeout 60 "${PODMAN[@]}" system reset -f >/dev/null 2>&1 || true
}
pm() { # label podman-args...: podman with that runtime
	local l=$1; shift
	run "${PODMAN[@]}" --runtime "$T/rt/$l/podman/$l" "$@"
}
pmrun=(--network none --cgroup-parent "/$CGP/podman")
pm_status() { pm "$1" inspect -f '{{.State.Status}}' "$2" 2>&1 | tail -n1; }

pm_run_exit() {
	local out rc
	out=$(pm "$1" run --rm "${pmrun[@]}" "$IMG" sh -c 'echo hello from $(hostname); exit 3' 2>&1)
	rc=$?
	echo "$out"
	want_eq "$rc" 3 "exit code of run --rm" && want_in "$out" "hello from" "output"
}
pm_run_stdin() {
	local out
	out=$(echo "hi through stdin" | pm "$1" run --rm -i "${pmrun[@]}" "$IMG" cat 2>&1) || fail "run -i: exit $?" || return 1
	echo "$out"
	want_in "$out" "hi through stdin" "stdin echoed by cat"
}
# podman maps the runtime's error text to 127 (not found) / 126 (cannot run)
pm_run_error() { # label command want-rc want-text
	local out rc
	out=$(pm "$1" run --rm "${pmrun[@]}" "$IMG" "$2" 2>&1)
	rc=$?
	echo "$out"
	want_eq "$rc" "$3" "exit code of run $2" && want_in "$out" "$4" "error message"
}
# a long-lived container that logs, exits 0 on TERM, says USR1
daemon_cmd=(sh -c 'trap "echo got TERM; exit 0" TERM; trap "echo got USR1" USR1; echo started; while :; do sleep 0.2; done')
pm_detach() {
	local c=pm-$1 out
	pm "$1" rm -f -t 0 "$c" >/dev/null 2>&1
	pm "$1" run -d --name "$c" "${pmrun[@]}" "$IMG" "${daemon_cmd[@]}" || return 1
	wait_for 10 pm_is "$1" "$c" running || fail "status $(pm_status "$1" "$c"), want running"
}
pm_is() { [[ $(pm_status "$1" "$2") == "$3" ]]; }
pm_exec() {
	local c=pm-$1 out rc
	out=$(pm "$1" exec "$c" sh -c 'echo exec sees pid1 $(cat /proc/1/comm); exit 4' 2>&1)
	rc=$?
	echo "$out"
	want_eq "$rc" 4 "exit code of exec" && want_in "$out" "exec sees pid1 sh" "exec output"
	out=$(echo piped | pm "$1" exec -i "$c" cat 2>&1) || fail "exec -i: exit $?" || return 1
	want_in "$out" piped "exec -i stdin"
}
pm_logs() {
	local c=pm-$1 out
	out=$(pm "$1" logs "$c" 2>&1) || fail "logs: exit $?" || return 1
	echo "$out"
	want_in "$out" started "logs"
}
pm_pause() {
	local c=pm-$1
	pm "$1" pause "$c" || return 1
	want_eq "$(pm_status "$1" "$c")" paused "status after pause" || return 1
	pm "$1" unpause "$c" || return 1
	want_eq "$(pm_status "$1" "$c")" running "status after unpause" || return 1
	local out
	out=$(pm "$1" exec "$c" echo alive 2>&1)
	want_in "$out" alive "exec after unpause"
}
pm_kill_signal() {
	local c=pm-$1
	pm "$1" kill -s USR1 "$c" || return 1
	wait_for 10 pm_logs_have "$1" "$c" "got USR1" || fail "the container did not see USR1"
}
pm_logs_have() { [[ $(pm "$1" logs "$2" 2>&1) == *"$3"* ]]; }
pm_stop() {
	local c=pm-$1 code
	pm "$1" stop -t 10 "$c" || return 1
	want_eq "$(pm_status "$1" "$c")" exited "status after stop" || return 1
	code=$(pm "$1" inspect -f '{{.State.ExitCode}}' "$c" | tail -n1)
	want_eq "$code" 0 "exit code after stop (TERM trapped)" || return 1
	pm_logs_have "$1" "$c" "got TERM" || fail "the container did not see TERM"
}
pm_rm() {
	local c=pm-$1
	pm "$1" rm "$c" || return 1
	pm "$1" container exists "$c" && fail "$c still exists after rm"
	return 0
}
pm_kill() {
	local c=pmk-$1 code
	pm "$1" rm -f -t 0 "$c" >/dev/null 2>&1
	pm "$1" run -d --name "$c" "${pmrun[@]}" "$IMG" sleep 1000 || return 1
	wait_for 10 pm_is "$1" "$c" running || return 1
	pm "$1" kill "$c" || return 1
	wait_for 10 pm_is "$1" "$c" exited || fail "status $(pm_status "$1" "$c") after kill, want exited" || return 1
	code=$(pm "$1" inspect -f '{{.State.ExitCode}}' "$c" | tail -n1)
	want_eq "$code" 137 "exit code after kill (SIGKILL)" || return 1
	pm "$1" rm "$c"
}
pm_run_it() {
	local s=pmit-$1
	cat >"$T/pty/$s.sh" <<EOF
$(declare -p CONTAINERS_CONF CONTAINERS_STORAGE_CONF CONTAINERS_REGISTRIES_CONF | sed 's/^declare -x/export/')
exec $(printf '%q ' "${PODMAN[@]}" --runtime "$T/rt/$1/podman/$1" run -it --rm --name "$s" "${pmrun[@]}" "$IMG" sh)
EOF
	pm "$1" rm -f -t 0 "$s" >/dev/null 2>&1
	pty_start "$s" "$T/pty/$s.sh" && pty_check "$s" 5 && return 0
	pty_stop "$s"; pm "$1" rm -f -t 0 "$s"; return 1
}
pm_exec_it() {
	local s=pmexit-$1 c=pmx-$1
	pm "$1" rm -f -t 0 "$c" >/dev/null 2>&1
	pm "$1" run -d --name "$c" "${pmrun[@]}" "$IMG" sleep 1000 || return 1
	cat >"$T/pty/$s.sh" <<EOF
$(declare -p CONTAINERS_CONF CONTAINERS_STORAGE_CONF CONTAINERS_REGISTRIES_CONF | sed 's/^declare -x/export/')
exec $(printf '%q ' "${PODMAN[@]}" --runtime "$T/rt/$1/podman/$1" exec -it "$c" sh)
EOF
	pty_start "$s" "$T/pty/$s.sh" && pty_check "$s" 6 && { pm "$1" rm -f -t 0 "$c"; return; }
	pty_stop "$s"; pm "$1" rm -f -t 0 "$c"; return 1
}

podman_cases() {
	local l
	for l in "${labels[@]}"; do
		snap_before podman "$l"
		runcase podman run-exit-code "$l" pm_run_exit "$l"
		runcase podman run-stdin "$l" pm_run_stdin "$l"
		runcase podman run-not-found "$l" pm_run_error "$l" /nonexistent 127 "/nonexistent"
		runcase podman run-not-executable "$l" pm_run_error "$l" /etc/passwd 126 "permission denied"
		runcase podman run-detach "$l" pm_detach "$l"
		runcase podman exec "$l" pm_exec "$l"
		runcase podman logs "$l" pm_logs "$l"
		runcase podman pause-unpause "$l" pm_pause "$l"
		runcase podman kill-signal "$l" pm_kill_signal "$l"
		runcase podman stop "$l" pm_stop "$l"
		runcase podman rm "$l" pm_rm "$l"
		runcase podman kill "$l" pm_kill "$l"
		runcase podman run-it "$l" pm_run_it "$l"
		runcase podman exec-it "$l" pm_exec_it "$l"
		podman_extra_cases "$l"
		podman_found_cases "$l"
		podman_annotation_cases "$l"
		podman_checkpoint_cases "$l"
		runcase podman view-init "$l" view_case podman "$l" pm_view_run
		runcase podman view-exec "$l" view_case podman "$l" pm_view_exec
		runcase podman leftovers "$l" leftovers podman "$l"
	done
}

# ================================================================ containerd (ctr + runc v2 shim)
CTD=$T/containerd
containerd_start() { # once per run: ctr and dockerd both use it
	[[ -n ${CTR_STARTED:-} ]] && return 0
	# shims put their sockets in /run/containerd/s whatever the config says
	[[ -e /run/containerd ]] || RUN_CONTAINERD_OURS=1
	mkdir -p "$CTD"
	cat >"$CTD/config.toml" <<EOF
version = 2
root = "$CTD/root"
state = "$CTD/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]
[grpc]
  address = "$CTD/containerd.sock"
[ttrpc]
  address = "$CTD/containerd.sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "$CTD/opt"
EOF
	containerd --config "$CTD/config.toml" --log-level warn >"$T/logs/containerd.log" 2>&1 &
	local cpid=$!
	pids_to_stop+=("containerd $cpid")
	cleanups+=(containerd_cleanup)
	CTR_STARTED=1
	local n
	for ((n = 0; n < 300; n++)); do
		ctr --address "$CTD/containerd.sock" version >/dev/null 2>&1 && return 0
		kill -0 "$cpid" 2>/dev/null || break
		sleep 0.1
	done
	cat "$T/logs/containerd.log"
	return 1
}
containerd_cleanup() {
	local ns id
	for ns in $(ctr --address "$CTD/containerd.sock" namespaces ls -q 2>/dev/null); do
		for id in $(ctr --address "$CTD/containerd.sock" -n "$ns" tasks ls -q 2>/dev/null); do
			timeout 10 ctr --address "$CTD/containerd.sock" -n "$ns" tasks kill -a -s KILL "$id"
			timeout 10 ctr --address "$CTD/containerd.sock" -n "$ns" tasks delete -f "$id"
		done
		for id in $(ctr --address "$CTD/containerd.sock" -n "$ns" containers ls -q 2>/dev/null); do
			timeout 10 ctr --address "$CTD/containerd.sock" -n "$ns" containers delete "$id"
		done
	done
}
# shims started by our containerd (-address <our socket>) that outlived it
# (a shim's socket is /run/containerd/s/<hash> whatever containerd's state
# dir: a killed shim leaves it, so it goes too)
kill_our_shims() {
	local p fd ino socks
	for p in $(pgrep -f containerd-shim); do
		tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -qF -- "-address $CTD/containerd.sock " || continue
		socks=()
		for fd in /proc/$p/fd/*; do
			ino=$(readlink "$fd" 2>/dev/null) && [[ $ino == socket:* ]] || continue
			ino=${ino#socket:[}; ino=${ino%]}
			mapfile -t -O "${#socks[@]}" socks < <(awk -v i="$ino" '$7 == i && $8 ~ /^\/run\/containerd\/s\// {print $8}' /proc/net/unix)
		done
		echo "killing shim $p ${socks[*]}"
		kill -KILL "$p"
		((${#socks[@]})) && rm -f "${socks[@]}"
	done
	return 0
}
containerd_setup() {
	containerd_start || return 1
	CTR=(ctr --address "$CTD/containerd.sock" -n "$NS")
	run "${CTR[@]}" images import "$T/image/busybox-oci.tar" >"$T/logs/containerd.import.log" 2>&1 ||
		{ cat "$T/logs/containerd.import.log"; return 1; }
}
ct() { run "${CTR[@]}" "$@"; }
ctopts() { # label id: ctr run options for that runtime and container id
	printf '%s\n' --runc-binary "$T/rt/$1/plain/$1" --runc-root "$T/rt/$1/state-ctr" \
		--fifo-dir "$CTD/fifo" --cgroup "/$CGP/ctr/$2"
}
ct_status() { "${CTR[@]}" tasks ls 2>/dev/null | awk -v id="$1" '$1 == id {print $3}'; }
ct_pid() { "${CTR[@]}" tasks ls 2>/dev/null | awk -v id="$1" '$1 == id {print $2}'; }
ct_is() { [[ $(ct_status "$1") == "$2" ]]; }
# ct_exec_held ID EXEC-ID [ctr exec options...] -- COMMAND...: ctr tasks
# exec, printing what ctr printed and returning its status, with COMMAND
# held until ctr has both output FIFOs open. ctr opens them in goroutines
# and, once it has the process's exit, cancels the opens that have not
# returned yet: what a process that exits at once wrote is then dropped, and
# ctr still exits 0. That is ctr's own race, whatever the runtime (runc and
# casco lose about 2% of such outputs alike on a loaded host).
ct_exec_held() {
	local id=$1 x=$2 pid gate bg c rc=0 opts=()
	shift 2
	while [[ $1 != -- ]]; do opts+=("$1"); shift; done
	shift
	pid=$(ct_pid "$id")
	[[ -n $pid ]] || fail "no pid for $id" || return 1
	gate=/proc/$pid/root/dev/.held-$x
	rm -f "$gate"
	mkfifo -m 0666 "$gate" || return 1
	echo "+ ${CTR[*]@Q} tasks exec --fifo-dir ${CTD@Q} --exec-id ${x@Q} ${opts[*]@Q} ${id@Q} (held) ${*@Q}"
	timeout -k 5 "$TMO" "${CTR[@]}" tasks exec --fifo-dir "$CTD/fifo" --exec-id "$x" "${opts[@]}" "$id" \
		sh -c 'read -r _ <"$0"; exec "$@"' "/dev/.held-$x" "$@" <&0 >"$T/exec-$id-$x.out" 2>&1 &
	bg=$!
	c=
	wait_for 20 ctr_child "$bg" || fail "ctr tasks exec did not start"
	c=$(ctr_child "$bg")
	[[ -n $c ]] && { wait_for 20 ctr_has_fifos "$c" "$x" || fail "ctr did not open the output FIFOs of $x"; }
	timeout 20 sh -c 'echo go >"$0"' "$gate" || fail "the held process did not start"
	wait "$bg" || rc=$?
	rm -f "$gate"
	cat "$T/exec-$id-$x.out"
	return $rc
}
ctr_child() { pgrep -P "$1" -x ctr; } # ctr below timeout
ctr_has_fifos() { # pid exec-id: that ctr has its stdout and stderr FIFOs open
	local f l out= err=
	for f in /proc/$1/fd/*; do
		l=$(readlink "$f") || continue
		[[ $l == "$CTD/fifo/"*"/$2-stdout" ]] && out=1
		[[ $l == "$CTD/fifo/"*"/$2-stderr" ]] && err=1
	done
	[[ -n $out && -n $err ]]
}
ct_rmf() { # id: remove whatever is left of it
	"${CTR[@]}" tasks kill -a -s KILL "$1" >/dev/null 2>&1
	"${CTR[@]}" tasks delete -f "$1" >/dev/null 2>&1
	"${CTR[@]}" containers delete "$1" >/dev/null 2>&1
	return 0
}

ct_run_exit() {
	local id=cr-$1 out rc o
	ct_rmf "$id"
	mapfile -t o < <(ctopts "$1" "$id")
	out=$(ct run --rm "${o[@]}" "$IMG" "$id" sh -c 'echo hello from $(hostname); exit 3' 2>&1)
	rc=$?
	echo "$out"
	want_eq "$rc" 3 "exit code of ctr run --rm" && want_in "$out" "hello from" "output"
}
ct_run_stdin() {
	local id=cs-$1 out o
	ct_rmf "$id"
	mapfile -t o < <(ctopts "$1" "$id")
	# ctr does not close the task's stdin at EOF: read one line, not to EOF
	out=$(echo "hi through stdin" | ct run --rm "${o[@]}" "$IMG" "$id" sh -c 'read -r line; echo "read: $line"' 2>&1) ||
		fail "ctr run: exit $?" || return 1
	echo "$out"
	want_in "$out" "read: hi through stdin" "stdin read by the task"
}
# containerd shows the last error of the runtime's --log file (log.json)
ct_run_error() {
	local id=ce-$1 out rc o
	ct_rmf "$id"
	mapfile -t o < <(ctopts "$1" "$id")
	out=$(ct run --rm "${o[@]}" "$IMG" "$id" /nonexistent 2>&1)
	rc=$?
	echo "$out"
	[[ $rc != 0 ]] || fail "ctr run of /nonexistent succeeded" || return 1
	want_in "$out" '"/nonexistent"' "error names the program" &&
		want_in "$out" "no such file or directory" "error gives the errno" || return 1
	"${CTR[@]}" containers ls -q | grep -qx "$id" && fail "container $id left behind"
	return 0
}
ct_detach() {
	local id=cd-$1 o
	ct_rmf "$id"
	mapfile -t o < <(ctopts "$1" "$id")
	ct run -d "${o[@]}" --log-uri "file://$CTD/$id.log" "$IMG" "$id" "${daemon_cmd[@]}" || return 1
	wait_for 10 ct_is "$id" RUNNING || fail "status $(ct_status "$id"), want RUNNING"
}
ct_exec() {
	local id=cd-$1 out rc
	out=$(ct_exec_held "$id" ex1 -- sh -c 'echo exec sees pid1 $(cat /proc/1/comm); exit 4')
	rc=$?
	echo "$out"
	want_eq "$rc" 4 "exit code of task exec" && want_in "$out" "exec sees pid1 sh" "exec output" || return 1
	out=$(echo piped | ct_exec_held "$id" ex2 -- sh -c 'read -r line; echo "read: $line"') ||
		fail "exec with stdin: exit $?" || return 1
	want_in "$out" "read: piped" "exec stdin"
}
ct_ps() {
	local id=cd-$1 out pid
	pid=$(ct_pid "$id")
	[[ -n $pid ]] || fail "no pid for $id" || return 1
	out=$(ct tasks ps "$id" 2>&1) || fail "task ps: exit $?" || return 1
	echo "$out"
	awk 'NR > 1 {print $1}' <<<"$out" | grep -qx "$pid" || fail "task ps does not list the init pid $pid"
}
ct_pause() {
	local id=cd-$1 out
	ct tasks pause "$id" || return 1
	want_eq "$(ct_status "$id")" PAUSED "status after pause" || return 1
	want_eq "$(cat "/sys/fs/cgroup/freezer/$CGP/ctr/$id/freezer.state")" FROZEN "freezer.state" || return 1
	ct tasks resume "$id" || return 1
	want_eq "$(ct_status "$id")" RUNNING "status after resume" || return 1
	out=$(ct_exec_held "$id" ex3 -- echo alive)
	want_in "$out" alive "exec after resume"
}
ct_kill_signal() {
	local id=cd-$1
	ct tasks kill -s USR1 "$id" || return 1
	wait_for 10 grep -q "got USR1" "$CTD/$id.log" || fail "the task did not see USR1"
}
ct_kill_term() {
	local id=cd-$1 out
	ct tasks kill "$id" || return 1
	wait_for 10 ct_is "$id" STOPPED || fail "status $(ct_status "$id") after SIGTERM, want STOPPED" || return 1
	grep -q "got TERM" "$CTD/$id.log" || fail "the task did not see TERM" || return 1
	out=$(ct tasks delete "$id" 2>&1) || fail "task delete: exit $?" || return 1
	echo "$out"
	[[ $out != *"non-zero exit code"* ]] || fail "exit code not 0: $out" || return 1
	ct containers delete "$id"
}
ct_kill_all() {
	local id=ck-$1 out o procs
	ct_rmf "$id"
	mapfile -t o < <(ctopts "$1" "$id")
	ct run -d "${o[@]}" --null-io "$IMG" "$id" sh -c 'sleep 1000 & sleep 1000 & wait' || return 1
	wait_for 10 ct_is "$id" RUNNING || return 1
	ct tasks kill -a -s KILL "$id" || return 1
	wait_for 10 ct_is "$id" STOPPED || fail "status $(ct_status "$id") after kill -a KILL, want STOPPED" || return 1
	out=$(ct tasks delete "$id" 2>&1)
	echo "$out"
	want_in "$out" "137" "exit code 137 after SIGKILL" || return 1
	procs=$(cat "/sys/fs/cgroup/pids/$CGP/ctr/$id/cgroup.procs" 2>/dev/null)
	[[ -z $procs ]] || fail "processes left in the cgroup: $procs" || return 1
	ct containers delete "$id"
}
ct_run_tty() {
	local s=ctt-$1 id=ct-$1 o
	ct_rmf "$id"
	mapfile -t o < <(ctopts "$1" "$id")
	printf 'exec %s\n' "$(printf '%q ' "${CTR[@]}" run --rm -t "${o[@]}" "$IMG" "$id" sh)" >"$T/pty/$s.sh"
	pty_start "$s" "$T/pty/$s.sh" && pty_check "$s" 5 && return 0
	pty_stop "$s"; ct_rmf "$id"; return 1
}
ct_exec_tty() {
	local s=ctx-$1 id=cx-$1 o
	ct_rmf "$id"
	mapfile -t o < <(ctopts "$1" "$id")
	ct run -d --null-io "${o[@]}" "$IMG" "$id" sleep 1000 || return 1
	wait_for 10 ct_is "$id" RUNNING || return 1
	printf 'exec %s\n' "$(printf '%q ' "${CTR[@]}" tasks exec --fifo-dir "$CTD/fifo" -t --exec-id tty1 "$id" sh)" >"$T/pty/$s.sh"
	pty_start "$s" "$T/pty/$s.sh" && pty_check "$s" 6 && { ct_rmf "$id"; return 0; }
	pty_stop "$s"; ct_rmf "$id"; return 1
}

containerd_cases() {
	local l
	for l in "${labels[@]}"; do
		snap_before containerd "$l"
		runcase containerd run-exit-code "$l" ct_run_exit "$l"
		runcase containerd run-stdin "$l" ct_run_stdin "$l"
		runcase containerd run-error-message "$l" ct_run_error "$l"
		runcase containerd run-detach "$l" ct_detach "$l"
		runcase containerd task-exec "$l" ct_exec "$l"
		runcase containerd task-ps "$l" ct_ps "$l"
		runcase containerd pause-resume "$l" ct_pause "$l"
		runcase containerd kill-signal "$l" ct_kill_signal "$l"
		runcase containerd kill-term-delete "$l" ct_kill_term "$l"
		runcase containerd kill-all "$l" ct_kill_all "$l"
		runcase containerd run-tty "$l" ct_run_tty "$l"
		runcase containerd exec-tty "$l" ct_exec_tty "$l"
		containerd_extra_cases "$l"
		containerd_found_cases "$l"
		containerd_checkpoint_cases "$l"
		runcase containerd view-init "$l" view_case containerd "$l" ct_view_run
		runcase containerd view-exec "$l" view_case containerd "$l" ct_view_exec
		runcase containerd leftovers "$l" leftovers containerd "$l"
	done
}

# ================================================================ dockerd
DK=$T/docker
docker_setup() {
	containerd_start || return 1
	mkdir -p "$DK/cli"
	local l addrt=()
	for l in "${labels[@]}"; do addrt+=(--add-runtime "eng-$l=$T/rt/$l/plain/$l"); done
	# an empty config (not /etc/docker/daemon.json) and the trust key in the temp dir
	printf '{"deprecated-key-path": "%s"}\n' "$DK/key.json" >"$DK/daemon.json"
	dockerd --config-file "$DK/daemon.json" --data-root "$DK/data" --exec-root "$DK/exec" \
		--pidfile "$DK/docker.pid" -H "unix://$DK/docker.sock" --containerd "$CTD/containerd.sock" \
		--bridge=none --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false \
		--userland-proxy=false --exec-opt native.cgroupdriver=cgroupfs --cgroup-parent "/$CGP/docker" \
		--storage-driver overlay2 "${addrt[@]}" >"$T/logs/dockerd.log" 2>&1 &
	local dpid=$! n
	pids_to_stop+=("dockerd $dpid")
	cleanups+=(docker_cleanup)
	export DOCKER_CONFIG=$DK/cli DOCKER_HOST=unix://$DK/docker.sock
	echo '{}' >"$DK/cli/config.json"   # podman reads $DOCKER_CONFIG too
	for ((n = 0; n < 300; n++)); do
		docker version >/dev/null 2>&1 && break
		kill -0 "$dpid" 2>/dev/null || break
		sleep 0.1
	done
	docker version >/dev/null 2>&1 || { tail -n 20 "$T/logs/dockerd.log"; return 1; }
	run docker import "$T/image/busybox.tar" "$IMG" >"$T/logs/docker.import.log" 2>&1 ||
		{ cat "$T/logs/docker.import.log"; return 1; }
}
docker_cleanup() {
	local ids
	ids=$(timeout 10 docker ps -aq 2>/dev/null)
	[[ -n $ids ]] && timeout 30 docker rm -f $ids
	return 0
}
dk_status() { docker inspect -f '{{.State.Status}}' "$1" 2>&1 | tail -n1; }
dk_is() { [[ $(dk_status "$1") == "$2" ]]; }
dk_logs_have() { [[ $(docker logs "$1" 2>&1) == *"$2"* ]]; }

dk_run_exit() {
	local out rc
	out=$(run docker run --rm --runtime "eng-$1" --network none "$IMG" sh -c 'echo hello from $(hostname); exit 3' 2>&1)
	rc=$?
	echo "$out"
	want_eq "$rc" 3 "exit code of docker run --rm" && want_in "$out" "hello from" "output"
}
dk_run_stdin() {
	local out
	out=$(echo "hi through stdin" | run docker run --rm -i --runtime "eng-$1" --network none "$IMG" cat 2>&1) ||
		fail "docker run -i: exit $?" || return 1
	echo "$out"
	want_in "$out" "hi through stdin" "stdin echoed by cat"
}
# docker maps the runtime's error text to 127 (not found) / 126 (cannot run)
dk_run_error() { # label command want-rc want-text
	local out rc
	out=$(run docker run --rm --runtime "eng-$1" --network none "$IMG" "$2" 2>&1)
	rc=$?
	echo "$out"
	want_eq "$rc" "$3" "exit code of run $2" && want_in "$out" "$4" "error message"
}
dk_detach() {
	local c=dk-$1
	docker rm -f "$c" >/dev/null 2>&1
	run docker run -d --name "$c" --runtime "eng-$1" --network none "$IMG" "${daemon_cmd[@]}" || return 1
	wait_for 10 dk_is "$c" running || fail "status $(dk_status "$c"), want running"
}
dk_exec() {
	local c=dk-$1 out rc
	out=$(run docker exec "$c" sh -c 'echo exec sees pid1 $(cat /proc/1/comm); exit 4' 2>&1)
	rc=$?
	echo "$out"
	want_eq "$rc" 4 "exit code of exec" && want_in "$out" "exec sees pid1 sh" "exec output" || return 1
	out=$(echo piped | run docker exec -i "$c" cat 2>&1) || fail "exec -i: exit $?" || return 1
	want_in "$out" piped "exec -i stdin"
}
dk_logs() {
	local out
	out=$(run docker logs "dk-$1" 2>&1) || fail "logs: exit $?" || return 1
	echo "$out"
	want_in "$out" started "logs"
}
dk_top() {
	local c=dk-$1 out pid
	pid=$(docker inspect -f '{{.State.Pid}}' "$c")
	out=$(run docker top "$c" 2>&1) || fail "top: exit $?" || return 1
	echo "$out"
	awk 'NR > 1 {print $2}' <<<"$out" | grep -qx "$pid" || fail "top does not list the init pid $pid"
}
# docker update -> runtime update --resources -: check the cgroup files
dk_update() {
	local c=dk-$1 pid mem pids cpu out
	run docker update --memory 64m --memory-swap 128m --cpu-shares 512 --pids-limit 50 "$c" || return 1
	pid=$(docker inspect -f '{{.State.Pid}}' "$c")
	mem=$(awk -F: '$2 == "memory" {print $3}' "/proc/$pid/cgroup")
	pids=$(awk -F: '$2 == "pids" {print $3}' "/proc/$pid/cgroup")
	cpu=$(awk -F: '$2 ~ /(^|,)cpu(,|$)/ {print $3}' "/proc/$pid/cgroup")
	echo "cgroups: memory $mem pids $pids cpu $cpu"
	want_eq "$(cat "/sys/fs/cgroup/memory$mem/memory.limit_in_bytes")" 67108864 "memory.limit_in_bytes" &&
		want_eq "$(cat "/sys/fs/cgroup/pids$pids/pids.max")" 50 "pids.max" &&
		want_eq "$(cat "/sys/fs/cgroup/cpu$cpu/cpu.shares")" 512 "cpu.shares" || return 1
	if [[ -f /sys/fs/cgroup/memory$mem/memory.memsw.limit_in_bytes ]]; then
		want_eq "$(cat "/sys/fs/cgroup/memory$mem/memory.memsw.limit_in_bytes")" 134217728 "memory.memsw.limit_in_bytes" || return 1
	fi
	out=$(docker inspect -f '{{.HostConfig.Memory}} {{.HostConfig.PidsLimit}}' "$c")
	want_eq "$out" "67108864 50" "docker inspect after update"
}
dk_pause() {
	local c=dk-$1 out
	run docker pause "$c" || return 1
	want_eq "$(dk_status "$c")" paused "status after pause" || return 1
	run docker unpause "$c" || return 1
	want_eq "$(dk_status "$c")" running "status after unpause" || return 1
	out=$(run docker exec "$c" echo alive 2>&1)
	want_in "$out" alive "exec after unpause"
}
dk_kill_signal() {
	local c=dk-$1
	run docker kill -s USR1 "$c" || return 1
	wait_for 10 dk_logs_have "$c" "got USR1" || fail "the container did not see USR1"
}
dk_stop() {
	local c=dk-$1 code
	run docker stop -t 10 "$c" || return 1
	want_eq "$(dk_status "$c")" exited "status after stop" || return 1
	code=$(docker inspect -f '{{.State.ExitCode}}' "$c")
	want_eq "$code" 0 "exit code after stop (TERM trapped)" || return 1
	dk_logs_have "$c" "got TERM" || fail "the container did not see TERM" || return 1
	run docker rm "$c"
}
dk_kill() {
	local c=dkk-$1 code
	docker rm -f "$c" >/dev/null 2>&1
	run docker run -d --name "$c" --runtime "eng-$1" --network none "$IMG" sleep 1000 || return 1
	wait_for 10 dk_is "$c" running || return 1
	run docker kill "$c" || return 1
	wait_for 10 dk_is "$c" exited || fail "status $(dk_status "$c") after kill, want exited" || return 1
	code=$(docker inspect -f '{{.State.ExitCode}}' "$c")
	want_eq "$code" 137 "exit code after kill (SIGKILL)" || return 1
	run docker rm "$c"
}
dk_run_it() {
	local s=dkit-$1
	{
		printf 'export DOCKER_CONFIG=%q DOCKER_HOST=%q\n' "$DOCKER_CONFIG" "$DOCKER_HOST"
		printf 'exec docker run -it --rm --name %q --runtime %q --network none %q sh\n' "$s" "eng-$1" "$IMG"
	} >"$T/pty/$s.sh"
	docker rm -f "$s" >/dev/null 2>&1
	pty_start "$s" "$T/pty/$s.sh" && pty_check "$s" 5 && return 0
	pty_stop "$s"; run docker rm -f "$s"; return 1
}
dk_exec_it() {
	local s=dkexit-$1 c=dkx-$1
	docker rm -f "$c" >/dev/null 2>&1
	run docker run -d --name "$c" --runtime "eng-$1" --network none "$IMG" sleep 1000 || return 1
	{
		printf 'export DOCKER_CONFIG=%q DOCKER_HOST=%q\n' "$DOCKER_CONFIG" "$DOCKER_HOST"
		printf 'exec docker exec -it %q sh\n' "$c"
	} >"$T/pty/$s.sh"
	pty_start "$s" "$T/pty/$s.sh" && pty_check "$s" 6 && { run docker rm -f "$c"; return; }
	pty_stop "$s"; run docker rm -f "$c"; return 1
}

docker_cases() {
	local l
	for l in "${labels[@]}"; do
		snap_before docker "$l"
		runcase docker run-exit-code "$l" dk_run_exit "$l"
		runcase docker run-stdin "$l" dk_run_stdin "$l"
		runcase docker run-not-found "$l" dk_run_error "$l" /nonexistent 127 "/nonexistent"
		runcase docker run-not-executable "$l" dk_run_error "$l" /etc/passwd 126 "permission denied"
		runcase docker run-detach "$l" dk_detach "$l"
		runcase docker exec "$l" dk_exec "$l"
		runcase docker logs "$l" dk_logs "$l"
		runcase docker top "$l" dk_top "$l"
		runcase docker update "$l" dk_update "$l"
		runcase docker pause-unpause "$l" dk_pause "$l"
		runcase docker kill-signal "$l" dk_kill_signal "$l"
		runcase docker stop "$l" dk_stop "$l"
		runcase docker kill "$l" dk_kill "$l"
		runcase docker run-it "$l" dk_run_it "$l"
		runcase docker exec-it "$l" dk_exec_it "$l"
		docker_extra_cases "$l"
		docker_found_cases "$l"
		runcase docker view-init "$l" view_case docker "$l" dk_view_run
		runcase docker view-exec "$l" view_case docker "$l" dk_view_exec
		runcase docker leftovers "$l" leftovers docker "$l"
	done
}

# ================================================================ more of what engines ask of a runtime
# (the container's view is checked from inside, the cgroups from the host)

# --- podman
pm_restart() { # restart, stop escalating to SIGKILL, start again: the same id, new processes
	local c=pmr-$1 p1 p2 code
	pm "$1" rm -f -t 0 "$c" >/dev/null 2>&1
	pm "$1" run -d --name "$c" "${pmrun[@]}" "$IMG" sleep 1000 || return 1
	wait_for 10 pm_is "$1" "$c" running || return 1
	p1=$(pm "$1" inspect -f '{{.State.Pid}}' "$c" | tail -n1)
	pm "$1" restart -t 1 "$c" || return 1
	wait_for 10 pm_is "$1" "$c" running || fail "status $(pm_status "$1" "$c") after restart" || return 1
	p2=$(pm "$1" inspect -f '{{.State.Pid}}' "$c" | tail -n1)
	[[ $p1 != "$p2" && $p2 != 0 ]] || fail "restart did not make a new init (pid $p1 -> $p2)" || return 1
	# sleep as pid 1 ignores SIGTERM: stop -t 1 must end in SIGKILL
	pm "$1" stop -t 1 "$c" || return 1
	want_eq "$(pm_status "$1" "$c")" exited "status after stop" || return 1
	code=$(pm "$1" inspect -f '{{.State.ExitCode}}' "$c" | tail -n1)
	want_eq "$code" 137 "exit code after stop -t 1 of a TERM-deaf init" || return 1
	kill -0 "$p2" 2>/dev/null && [[ $(cat /proc/$p2/comm 2>/dev/null) == sleep ]] && fail "init $p2 still alive" && return 1
	pm "$1" start "$c" || return 1
	wait_for 10 pm_is "$1" "$c" running || fail "status $(pm_status "$1" "$c") after start again" || return 1
	pm "$1" rm -f -t 0 "$c"
}
pm_in() { # label want-output podman-run-options... -- command...: run --rm, compare output
	local l=$1 want=$2 out rc; shift 2
	local opts=()
	while [[ $1 != -- ]]; do opts+=("$1"); shift; done
	shift
	out=$(pm "$l" run --rm "${pmrun[@]}" "${opts[@]}" "$IMG" "$@" 2>&1)
	rc=$?
	echo "$out"
	want_eq "$rc" 0 "exit code" || return 1
	want_eq "$(tail -n1 <<<"$out")" "$want" "output"
}
pm_userns() {
	local c=pmu-$1 out
	pm_in "$1" "0 100000 65536 uid=0(root)" --uidmap 0:100000:65536 --gidmap 0:100000:65536 -- \
		sh -c 'echo $(cat /proc/self/uid_map) $(id -u -n | sed "s/^/uid=0(/;s/$/)/")' || return 1
	pm "$1" rm -f -t 0 "$c" >/dev/null 2>&1
	pm "$1" run -d --name "$c" "${pmrun[@]}" --uidmap 0:100000:65536 --gidmap 0:100000:65536 "$IMG" sleep 1000 || return 1
	out=$(pm "$1" exec "$c" sh -c 'echo $(cat /proc/self/uid_map)' 2>&1)
	echo "$out"
	want_eq "$(tail -n1 <<<"$out")" "0 100000 65536" "uid_map seen by exec" || { pm "$1" rm -f -t 0 "$c"; return 1; }
	pm "$1" rm -f -t 0 "$c"
}
pm_join() { # --pid/--ipc/--uts container:X: namespaces given by path
	local c=pmj-$1 out want
	pm "$1" rm -f -t 0 "$c" >/dev/null 2>&1
	pm "$1" run -d --name "$c" --hostname joined "${pmrun[@]}" "$IMG" sleep 1000 || return 1
	out=$(pm "$1" run --rm "${pmrun[@]}" --pid "container:$c" --ipc "container:$c" --uts "container:$c" "$IMG" \
		sh -c 'echo "$(cat /proc/1/cmdline | tr "\0" " ")|$(hostname)"' 2>&1)
	echo "$out"
	pm "$1" rm -f -t 0 "$c" >/dev/null
	want_eq "$(tail -n1 <<<"$out")" "sleep 1000 |joined" "pid 1 and hostname of the joined container"
}
pm_pid_host() {
	pm_in "$1" "not-pid-1 host-init" --pid host -- sh -c '[ $$ != 1 ] && echo -n "not-pid-1 "; [ "$(cat /proc/1/comm)" != sh ] && echo host-init'
}
pm_preserve_fds() {
	echo "through fd 3" >"$T/podman/fd3"
	local out
	out=$(pm "$1" run --rm "${pmrun[@]}" --preserve-fds 1 "$IMG" sh -c 'cat <&3' 3<"$T/podman/fd3" 2>&1)
	echo "$out"
	want_in "$out" "through fd 3" "fd 3 passed by --preserve-fds"
}
pm_hooks() { # OCI hooks from --hooks-dir: prestart and poststop, state JSON on stdin
	local d=$T/podman/hooks-$1 out f
	mkdir -p "$d/dir" "$d/out"
	for f in prestart poststop; do
		printf '{"version":"1.0.0","hook":{"path":"/bin/sh","args":["sh","-c","cat > %s/out/%s.json"]},"when":{"always":true},"stages":["%s"]}\n' \
			"$d" "$f" "$f" >"$d/dir/$f.json"
	done
	run "${PODMAN[@]}" --runtime "$T/rt/$1/podman/$1" --hooks-dir "$d/dir" run --rm "${pmrun[@]}" "$IMG" true || return 1
	for f in prestart poststop; do
		[[ -s $d/out/$f.json ]] || fail "the $f hook did not run" || return 1
		echo "$f: $(cat "$d/out/$f.json")"
	done
	want_in "$(cat "$d/out/prestart.json")" '"status":"creating"' "prestart state" &&
		grep -Eq '"pid": ?[1-9]' "$d/out/prestart.json" || fail "prestart state has no pid" || return 1
	want_in "$(cat "$d/out/poststop.json")" '"status":"stopped"' "poststop state"
}
pm_seccomp() { # a profile of the user's: mkdir denied with EPERM
	printf '%s\n' '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO"}]}' >"$T/podman/seccomp-nomkdir.json"
	pm_in "$1" "mkdir: can't create directory '/tmp/x': Operation not permitted" \
		--security-opt "seccomp=$T/podman/seccomp-nomkdir.json" -- sh -c 'mkdir /tmp/x 2>&1; true'
}
pm_limits() { # resources at create, seen in the container's own cgroups
	pm_in "$1" "33554432 20 50000" --memory 32m --pids-limit 20 --cpus 0.5 -- \
		sh -c 'echo $(cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/cpu/cpu.cfs_quota_us)'
}
pm_security() {
	pm_in "$1" "ro tmpfs uid=1000 gid=1000 groups=10,1000 CapEff:0000000000002000 NoNewPrivs:1" \
		--read-only --tmpfs /run --cap-drop all --cap-add NET_RAW --security-opt no-new-privileges \
		--user 1000:1000 --group-add 10 -- \
		sh -c 'touch /x 2>/dev/null || echo -n "ro "; touch /run/y && echo -n "tmpfs "; echo $(id | sed "s/([^)]*)//g") $(grep -E "^(CapEff|NoNewPrivs)" /proc/self/status | tr -d "\t")'
}
pm_privileged() {
	pm_in "$1" "CapEff:000001fffeffffff devices-ok sys-rw" --privileged -- \
		sh -c 'echo $(grep ^CapEff /proc/self/status | tr -d "\t") $([ $(ls /dev | wc -l) -gt 30 ] && echo devices-ok) $(grep " /sys " /proc/self/mounts | grep -q "sysfs rw" && echo sys-rw)'
}
pm_init() {
	pm_in "$1" "/run/podman-init" --init -- sh -c 'cat /proc/1/cmdline | tr "\0" "\n" | head -n1'
}
pm_mounts() {
	mkdir -p "$T/podman/vol" && echo "from the host" >"$T/podman/vol/f"
	pm_in "$1" "from the host|ro|tmpfs" -v "$T/podman/vol:/data:ro" --mount type=tmpfs,destination=/scratch -- \
		sh -c 'echo "$(cat /data/f)|$(touch /data/g 2>/dev/null || echo ro)|$(grep " /scratch " /proc/self/mounts | cut -d" " -f3)"'
}
pm_tmpcopyup() { # podman's --tmpfs copies the image's directory up (tmpcopyup)
	pm_in "$1" "root:x:0: tmpfs" --tmpfs /etc -- \
		sh -c 'echo "$(head -n1 /etc/passwd | cut -c1-9) $(grep " /etc " /proc/self/mounts | cut -d" " -f3)"'
}
pm_sysctl_ulimit_device() {
	pm_in "$1" "4096 512 2048 c1,3" --sysctl kernel.msgmax=4096 --ulimit nofile=512:512 --ulimit nproc=2048:2048 \
		--device /dev/null:/dev/mynull -- \
		sh -c 'echo $(cat /proc/sys/kernel/msgmax) $(ulimit -n) $(ulimit -u) $(stat -c "%F" /dev/mynull | cut -c1)$(stat -c "%t,%T" /dev/mynull)'
}
pm_exec_options() {
	local c=pme-$1 out rc
	pm "$1" rm -f -t 0 "$c" >/dev/null 2>&1
	pm "$1" run -d --name "$c" "${pmrun[@]}" "$IMG" sleep 1000 || return 1
	out=$(pm "$1" exec --user 1000:1000 --workdir /tmp -e X=1 "$c" sh -c 'echo "$(id -u):$(id -g) $(pwd) X=$X"' 2>&1)
	echo "$out"
	want_eq "$(tail -n1 <<<"$out")" "1000:1000 /tmp X=1" "exec --user --workdir -e" || { pm "$1" rm -f -t 0 "$c"; return 1; }
	out=$(pm "$1" exec "$c" sh -c 'kill -9 $$' 2>&1)
	rc=$?
	pm "$1" rm -f -t 0 "$c" >/dev/null
	want_eq "$rc" 137 "exit code of an exec killed by SIGKILL"
}
podman_extra_cases() {
	runcase podman restart-stop-start "$1" pm_restart "$1"
	runcase podman userns "$1" pm_userns "$1"
	runcase podman join-namespaces "$1" pm_join "$1"
	runcase podman pid-host "$1" pm_pid_host "$1"
	runcase podman preserve-fds "$1" pm_preserve_fds "$1"
	runcase podman hooks "$1" pm_hooks "$1"
	runcase podman seccomp-profile "$1" pm_seccomp "$1"
	runcase podman limits "$1" pm_limits "$1"
	runcase podman security-options "$1" pm_security "$1"
	runcase podman privileged "$1" pm_privileged "$1"
	runcase podman init "$1" pm_init "$1"
	runcase podman mounts "$1" pm_mounts "$1"
	runcase podman tmpcopyup "$1" pm_tmpcopyup "$1"
	runcase podman sysctl-ulimit-device "$1" pm_sysctl_ulimit_device "$1"
	runcase podman exec-options "$1" pm_exec_options "$1"
}

# --- containerd
ct_with_ns() { # --with-ns: the pid and ipc namespaces of another task, by path
	local id=cw-$1 j=cj-$1 o pid out
	ct_rmf "$id"; ct_rmf "$j"
	mapfile -t o < <(ctopts "$1" "$id")
	ct run -d --null-io "${o[@]}" "$IMG" "$id" sleep 1000 || return 1
	wait_for 10 ct_is "$id" RUNNING || return 1
	pid=$(ct_pid "$id")
	mapfile -t o < <(ctopts "$1" "$j")
	out=$(ct run --rm "${o[@]}" --with-ns "pid:/proc/$pid/ns/pid" --with-ns "ipc:/proc/$pid/ns/ipc" "$IMG" "$j" \
		sh -c 'cat /proc/1/cmdline | tr "\0" " "' 2>&1)
	echo "$out"
	ct_rmf "$id"
	want_eq "$(tail -n1 <<<"$out")" "sleep 1000 " "pid 1 of the joined pid namespace"
}
ct_exec_detach_kill() { # a detached exec, signalled by its exec id
	local id=ce2-$1 o out rc
	ct_rmf "$id"
	mapfile -t o < <(ctopts "$1" "$id")
	ct run -d --null-io "${o[@]}" "$IMG" "$id" sleep 1000 || return 1
	wait_for 10 ct_is "$id" RUNNING || return 1
	ct tasks exec --fifo-dir "$CTD/fifo" -d --exec-id long "$id" sleep 500 || { ct_rmf "$id"; return 1; }
	wait_for 5 ct_nprocs_is "$id" 2 || fail "the detached exec does not show in task ps" || { ct_rmf "$id"; return 1; }
	ct tasks kill --exec-id long -s KILL "$id" || { ct_rmf "$id"; return 1; }
	wait_for 5 ct_nprocs_is "$id" 1 || fail "the exec survived its SIGKILL" || { ct_rmf "$id"; return 1; }
	# ctr exits with the process's status, saying nothing: an empty output
	# is told apart from a process that died (a signal: 128+n) by the status
	out=$(ct_exec_held "$id" u1 --user 1000 --cwd /tmp -- sh -c 'echo "$(id -u) $(pwd)"')
	rc=$?
	echo "$out"
	ct_rmf "$id"
	want_eq "$rc" 0 "exit status of ctr tasks exec" && want_eq "$(tail -n1 <<<"$out")" "1000 /tmp" "exec --user --cwd"
}
ct_nprocs_is() { [[ $("${CTR[@]}" tasks ps "$1" 2>/dev/null | awk 'NR > 1' | wc -l) == "$2" ]]; }
ct_limits() { # --read-only, --memory-limit, --cpus: checked in the task's cgroup from the host
	local id=cl-$1 o out
	ct_rmf "$id"
	mapfile -t o < <(ctopts "$1" "$id")
	out=$(ct run --rm "${o[@]}" --read-only --memory-limit 33554432 --cpus 0.5 "$IMG" "$id" \
		sh -c "touch /x 2>/dev/null || echo -n 'ro '; cat /sys/fs/cgroup/memory/$CGP/ctr/$id/memory.limit_in_bytes 2>/dev/null; grep -q /$CGP/ctr/$id /proc/self/cgroup && echo in-cgroup" 2>&1)
	echo "$out"
	want_in "$out" "ro" "read-only root" && want_in "$out" "in-cgroup" "the task's cgroup"
}
ct_limits_host() {
	local id=cl2-$1 o
	ct_rmf "$id"
	mapfile -t o < <(ctopts "$1" "$id")
	ct run -d --null-io "${o[@]}" --memory-limit 33554432 --cpus 0.5 "$IMG" "$id" sleep 1000 || return 1
	wait_for 10 ct_is "$id" RUNNING || return 1
	local m=/sys/fs/cgroup/memory/$CGP/ctr/$id q=/sys/fs/cgroup/cpu/$CGP/ctr/$id
	want_eq "$(cat $m/memory.limit_in_bytes)" 33554432 "memory.limit_in_bytes" &&
		want_eq "$(cat $q/cpu.cfs_quota_us)" 50000 "cpu.cfs_quota_us" &&
		grep -qx "$(ct_pid "$id")" $m/cgroup.procs || fail "the init is not in its memory cgroup" || { ct_rmf "$id"; return 1; }
	ct_rmf "$id"
}
containerd_extra_cases() {
	runcase containerd with-ns "$1" ct_with_ns "$1"
	runcase containerd exec-detach-kill-user "$1" ct_exec_detach_kill "$1"
	runcase containerd read-only-cgroup "$1" ct_limits "$1"
	runcase containerd limits "$1" ct_limits_host "$1"
}

# --- docker
dk_oom() {
	local c=dko-$1 out
	docker rm -f "$c" >/dev/null 2>&1
	run docker run --name "$c" --runtime "eng-$1" --network none --memory 16m --memory-swap 16m "$IMG" \
		sh -c 'x=a; while :; do x=$x$x; done'
	out=$(docker inspect -f '{{.State.OOMKilled}} {{.State.ExitCode}}' "$c")
	run docker rm -f "$c" >/dev/null
	want_eq "$out" "true 137" "OOMKilled and exit code"
}
dk_restart_policy() { # the engine re-creates the task with the same id on its own
	local c=dkp-$1 out
	docker rm -f "$c" >/dev/null 2>&1
	run docker run -d --name "$c" --runtime "eng-$1" --network none --restart on-failure:2 "$IMG" sh -c 'sleep 0.3; exit 5' || return 1
	wait_for 20 dk_restarts_done "$c" || true
	out=$(docker inspect -f '{{.RestartCount}} {{.State.Status}} {{.State.ExitCode}}' "$c")
	run docker rm -f "$c" >/dev/null
	want_eq "$out" "2 exited 5" "restart count, status, exit code"
}
dk_restarts_done() { [[ $(docker inspect -f '{{.RestartCount}} {{.State.Status}}' "$1") == "2 exited" ]]; }
dk_restart() { # stop escalating to SIGKILL, start, restart: the same id, new processes
	local c=dkr-$1 p1 p2 code
	docker rm -f "$c" >/dev/null 2>&1
	run docker run -d --name "$c" --runtime "eng-$1" --network none "$IMG" sleep 1000 || return 1
	wait_for 10 dk_is "$c" running || return 1
	run docker stop -t 1 "$c" || return 1
	code=$(docker inspect -f '{{.State.ExitCode}}' "$c")
	want_eq "$code" 137 "exit code after stop -t 1 of a TERM-deaf init" || return 1
	run docker start "$c" || return 1
	p1=$(docker inspect -f '{{.State.Pid}}' "$c")
	run docker restart -t 1 "$c" || return 1
	wait_for 10 dk_is "$c" running || return 1
	p2=$(docker inspect -f '{{.State.Pid}}' "$c")
	[[ $p1 != "$p2" && $p2 != 0 ]] || fail "restart did not make a new init (pid $p1 -> $p2)" || return 1
	run docker rm -f "$c"
}
dk_in() { # label want docker-run-options... -- command...
	local l=$1 want=$2 out rc; shift 2
	local opts=()
	while [[ $1 != -- ]]; do opts+=("$1"); shift; done
	shift
	out=$(run docker run --rm --runtime "eng-$l" --network none "${opts[@]}" "$IMG" "$@" 2>&1)
	rc=$?
	echo "$out"
	want_eq "$rc" 0 "exit code" || return 1
	want_eq "$(tail -n1 <<<"$out")" "$want" "output"
}
dk_init() {
	dk_in "$1" "/sbin/docker-init" --init -- sh -c 'cat /proc/1/cmdline | tr "\0" "\n" | head -n1'
}
dk_security_limits() {
	dk_in "$1" "ro tmpfs 30 50000 67108864 500 uid=1000 gid=1000 CapEff:0000000000000000 NoNewPrivs:1" \
		--read-only --tmpfs /run --pids-limit 30 --cpus 0.5 --memory 64m --ulimit nofile=500:500 \
		--cap-drop all --security-opt no-new-privileges --user 1000:1000 -- \
		sh -c 'touch /x 2>/dev/null || echo -n "ro "; touch /run/y && echo -n "tmpfs "; echo $(cat /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/memory/memory.limit_in_bytes) $(ulimit -n) $(id | sed "s/([^)]*)//g; s/ groups=.*//") $(grep -E "^(CapEff|NoNewPrivs)" /proc/self/status | tr -d "\t")'
}
dk_exec_options() {
	local c=dke-$1 out
	docker rm -f "$c" >/dev/null 2>&1
	run docker run -d --name "$c" --runtime "eng-$1" --network none "$IMG" sleep 1000 || return 1
	out=$(run docker exec -u 1000:1000 -w /tmp -e X=1 "$c" sh -c 'echo "$(id -u):$(id -g) $(pwd) X=$X"' 2>&1)
	echo "$out"
	run docker rm -f "$c" >/dev/null
	want_eq "$(tail -n1 <<<"$out")" "1000:1000 /tmp X=1" "exec -u -w -e"
}
docker_extra_cases() {
	runcase docker oom-killed "$1" dk_oom "$1"
	runcase docker restart-policy "$1" dk_restart_policy "$1"
	runcase docker stop-start-restart "$1" dk_restart "$1"
	runcase docker init "$1" dk_init "$1"
	runcase docker security-limits "$1" dk_security_limits "$1"
	runcase docker exec-options "$1" dk_exec_options "$1"
}

# --- found by this suite: each of these once failed with casco and passed with runc

# SIGKILL to a paused container: runc thaws the freezer so the kill lands
pm_kill_paused() {
	local c=pmkp-$1 code
	pm "$1" rm -f -t 0 "$c" >/dev/null 2>&1
	pm "$1" run -d --name "$c" "${pmrun[@]}" "$IMG" sleep 1000 || return 1
	wait_for 10 pm_is "$1" "$c" running || return 1
	pm "$1" pause "$c" || return 1
	pm "$1" kill "$c" || { pm "$1" unpause "$c"; pm "$1" rm -f -t 0 "$c"; return 1; }
	wait_for 10 pm_is "$1" "$c" exited || fail "status $(pm_status "$1" "$c") after kill of the paused container, want exited" ||
		{ pm "$1" unpause "$c"; pm "$1" rm -f -t 0 "$c"; return 1; }
	code=$(pm "$1" inspect -f '{{.State.ExitCode}}' "$c" | tail -n1)
	pm "$1" rm -f -t 0 "$c" >/dev/null
	want_eq "$code" 137 "exit code after kill of the paused container"
}
ct_kill_paused() {
	local id=ckp-$1 o
	ct_rmf "$id"
	mapfile -t o < <(ctopts "$1" "$id")
	ct run -d --null-io "${o[@]}" "$IMG" "$id" sleep 1000 || return 1
	wait_for 10 ct_is "$id" RUNNING || return 1
	ct tasks pause "$id" || return 1
	ct tasks kill -s KILL "$id" || { ct tasks resume "$id"; ct_rmf "$id"; return 1; }
	if ! wait_for 10 ct_is "$id" STOPPED; then
		fail "status $(ct_status "$id") after SIGKILL of the paused task, want STOPPED"
		ct tasks resume "$id"; ct_rmf "$id"; return 1
	fi
	ct_rmf "$id"
}
dk_kill_paused() {
	local c=dkkp-$1 out
	docker rm -f "$c" >/dev/null 2>&1
	run docker run -d --name "$c" --runtime "eng-$1" --network none "$IMG" sleep 1000 || return 1
	run docker pause "$c" || return 1
	run docker kill "$c" || { docker unpause "$c"; docker rm -f "$c"; return 1; }
	wait_for 10 dk_is "$c" exited || fail "status $(dk_status "$c") after kill of the paused container" || { docker unpause "$c"; docker rm -f "$c"; return 1; }
	out=$(docker inspect -f '{{.State.ExitCode}}' "$c")
	run docker rm -f "$c" >/dev/null
	want_eq "$out" 137 "exit code after kill of the paused container"
}

# an exec'd process gets the container's oom_score_adj (not the engine's)
pm_exec_oom() {
	local c=pmo-$1 out
	pm "$1" rm -f -t 0 "$c" >/dev/null 2>&1
	pm "$1" run -d --name "$c" "${pmrun[@]}" --oom-score-adj 500 "$IMG" sleep 1000 || return 1
	out=$(pm "$1" exec "$c" sh -c 'echo "init=$(cat /proc/1/oom_score_adj) exec=$(cat /proc/self/oom_score_adj)"' 2>&1)
	echo "$out"
	pm "$1" rm -f -t 0 "$c" >/dev/null
	want_eq "$(tail -n1 <<<"$out")" "init=500 exec=500" "oom_score_adj of init and exec"
}
dk_exec_oom() {
	local c=dko2-$1 out
	docker rm -f "$c" >/dev/null 2>&1
	run docker run -d --name "$c" --runtime "eng-$1" --network none --oom-score-adj 500 "$IMG" sleep 1000 || return 1
	out=$(run docker exec "$c" sh -c 'echo "init=$(cat /proc/1/oom_score_adj) exec=$(cat /proc/self/oom_score_adj)"' 2>&1)
	echo "$out"
	run docker rm -f "$c" >/dev/null
	want_eq "$(tail -n1 <<<"$out")" "init=500 exec=500" "oom_score_adj of init and exec"
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
pm_prop_run() { # label dir
	pm "$1" run --rm "${pmrun[@]}" --cap-add SYS_ADMIN --security-opt seccomp=unconfined -v "$2:/prop:rshared" "$IMG" \
		sh -c 'mount -t tmpfs tmpfs /prop/sub && grep " /prop" /proc/self/mountinfo'
}
dk_prop_run() { # label dir
	run docker run --rm --runtime "eng-$1" --network none --cap-add SYS_ADMIN --security-opt seccomp=unconfined \
		--security-opt apparmor=unconfined -v "$2:/prop:rshared" "$IMG" \
		sh -c 'mount -t tmpfs tmpfs /prop/sub && grep " /prop" /proc/self/mountinfo'
}
pm_propagation() { propagation_check podman "$1" pm_prop_run "$1"; }
dk_propagation() { propagation_check docker "$1" dk_prop_run "$1"; }

rm_cgroup() { # path below every hierarchy: true once it is gone everywhere
	local h ok=0
	for h in /sys/fs/cgroup/*/; do
		[[ -d $h$1 ]] || continue
		find "$h$1" -depth -type d -exec rmdir {} \; 2>/dev/null
		[[ -d $h$1 ]] && ok=1
	done
	return $ok
}
# several containers started at once (state dir locks, cgroup parents made concurrently)
pm_parallel() {
	local i pids=() rc=0
	for i in 1 2 3 4 5 6; do
		pm "$1" run --rm "${pmrun[@]}" --cgroup-parent "/$CGP/podman/par-$1" "$IMG" sh -c "exit $i" >"$T/logs/par.$1.$i" 2>&1 &
		pids+=($!)
	done
	for i in 1 2 3 4 5 6; do
		wait "${pids[i - 1]}"
		local got=$?
		[[ $got == "$i" ]] || { echo "container $i: exit $got"; cat "$T/logs/par.$1.$i"; rc=1; }
	done
	# the parent cgroup (and podman's conmon cgroup in it) is the engine's to
	# remove: runtimes remove their leaf
	wait_for 5 rm_cgroup "$CGP/podman/par-$1" >/dev/null 2>&1
	((rc == 0)) || fail "parallel runs"
}

# the device cgroup allows what the engine's spec lists, and runc's
# defaults, nothing more: /dev/fuse (c 10:229) is not among them
fuse_script='mknod /tmp/fuse c 10 229 || exit 3; if (exec 3<>/tmp/fuse) 2>/dev/null; then echo "fuse opened"; else echo "fuse denied"; fi'
dk_device_fuse() {
	dk_in "$1" "fuse denied" -- sh -c "$fuse_script"
}
pm_device_fuse() {
	pm_in "$1" "fuse denied" --cap-add MKNOD -- sh -c "$fuse_script"
}
ct_device_fuse() {
	local id=cf-$1 o out
	ct_rmf "$id"
	mapfile -t o < <(ctopts "$1" "$id")
	out=$(ct run --rm "${o[@]}" "$IMG" "$id" sh -c "$fuse_script" 2>&1)
	echo "$out"
	want_eq "$(tail -n1 <<<"$out")" "fuse denied" "open of a mknod'ed /dev/fuse"
}

# crun's run.oci.* annotations, as podman passes --annotation to crun: each
# honoured as crun does (the kernel's view) or refused naming it. runc
# ignores them all, so it fails these.
podman_annotation_cases() {
	runcase podman annotation-keep-groups "$1" pm_ann_keep_groups "$1"
	runcase podman annotation-hooks-output "$1" pm_ann_hooks_output "$1"
	runcase podman annotation-seccomp-fail-unknown "$1" pm_ann_seccomp_unknown "$1"
	runcase podman annotation-refused "$1" pm_ann_refused "$1"
}
# run.oci.keep_original_groups: the init keeps the groups podman (and so
# the runtime) runs with, and --group-add is not applied, as with crun
pm_ann_keep_groups() {
	local c=pmg-$1 pid g
	pm "$1" rm -f -t 0 "$c" >/dev/null 2>&1
	run setpriv --groups 4101,4102 "${PODMAN[@]}" --runtime "$T/rt/$1/podman/$1" run -d --name "$c" "${pmrun[@]}" \
		--annotation run.oci.keep_original_groups=1 --group-add 4201 "$IMG" sleep 1000 || return 1
	pid=$(pm "$1" inspect -f '{{.State.Pid}}' "$c" | tail -n1)
	g=$(grep ^Groups: "/proc/$pid/status")
	pm "$1" rm -f -t 0 "$c" >/dev/null
	echo "init $pid: $g"
	want_eq "$(echo $g)" "Groups: 4101 4102" "the init's supplementary groups"
}
# run.oci.hooks.stdout/stderr: podman's hooks (--hooks-dir) the runtime
# runs write to the files named, appended to: prestart (run by the
# runtime) and createContainer (run by the container's init). podman runs
# poststop hooks itself, not through the runtime.
pm_ann_hooks_output() {
	local d=$T/podman/annhooks-$1 f
	rm -rf "$d"; mkdir -p "$d/dir"
	echo before >"$d/out.log"
	for f in prestart createContainer; do
		printf '{"version":"1.0.0","hook":{"path":"/bin/sh","args":["sh","-c","echo %s-out; echo %s-err >&2"]},"when":{"always":true},"stages":["%s"]}\n' \
			"$f" "$f" "$f" >"$d/dir/$f.json"
	done
	run "${PODMAN[@]}" --runtime "$T/rt/$1/podman/$1" --hooks-dir "$d/dir" run --rm "${pmrun[@]}" \
		--annotation run.oci.hooks.stdout="$d/out.log" --annotation run.oci.hooks.stderr="$d/err.log" "$IMG" true || return 1
	echo "out.log: $(cat "$d/out.log")"; echo "err.log: $(cat "$d/err.log" 2>&1)"
	want_eq "$(cat "$d/out.log")" $'before\nprestart-out\ncreateContainer-out' "hooks' stdout file" &&
		want_eq "$(cat "$d/err.log")" $'prestart-err\ncreateContainer-err' "hooks' stderr file"
}
# run.oci.seccomp_fail_unknown_syscall: a profile naming a syscall
# libseccomp does not know is refused, naming it; without it, it runs
pm_ann_seccomp_unknown() {
	local out
	printf '%s\n' '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["getcpu","no_such_syscall_at_all"],"action":"SCMP_ACT_ERRNO"}]}' >"$T/podman/seccomp-unknown.json"
	run "${PODMAN[@]}" --runtime "$T/rt/$1/podman/$1" run --rm "${pmrun[@]}" --security-opt "seccomp=$T/podman/seccomp-unknown.json" "$IMG" true || return 1
	out=$(pm "$1" run --rm "${pmrun[@]}" --security-opt "seccomp=$T/podman/seccomp-unknown.json" \
		--annotation run.oci.seccomp_fail_unknown_syscall=1 "$IMG" true 2>&1) && { fail "ran with an unknown syscall in its profile"; return 1; }
	echo "$out"
	want_in "$(grep ^Error: <<<"$out")" no_such_syscall_at_all "podman's error"
}
# an annotation crun documents and casco does not do: podman's error names it
pm_ann_refused() {
	local out
	out=$(pm "$1" run --rm "${pmrun[@]}" --annotation run.oci.handler=krun "$IMG" true 2>&1) && { fail "ran with run.oci.handler=krun"; return 1; }
	echo "$out"
	# the error line, not the echoed command line
	want_in "$(grep ^Error: <<<"$out")" "run.oci.handler" "podman's error"
}

podman_found_cases() {
	runcase podman kill-paused "$1" pm_kill_paused "$1"
	runcase podman exec-oom-score-adj "$1" pm_exec_oom "$1"
	runcase podman rshared-propagation "$1" pm_propagation "$1"
	runcase podman parallel-runs "$1" pm_parallel "$1"
	runcase podman device-cgroup-fuse "$1" pm_device_fuse "$1"
}
containerd_found_cases() {
	runcase containerd kill-paused "$1" ct_kill_paused "$1"
	runcase containerd device-cgroup-fuse "$1" ct_device_fuse "$1"
}
docker_found_cases() {
	runcase docker kill-paused "$1" dk_kill_paused "$1"
	runcase docker exec-oom-score-adj "$1" dk_exec_oom "$1"
	runcase docker rshared-propagation "$1" dk_propagation "$1"
	runcase docker device-cgroup-fuse "$1" dk_device_fuse "$1"
}

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
pm_view_run() { pm "$1" run --rm "${pmrun[@]}" -v "$T/view.sh:/view.sh:ro" "$IMG" sh /view.sh >"$2" 2>&1; }
pm_view_exec() {
	local c=pmv-$1 rc
	pm "$1" rm -f -t 0 "$c" >/dev/null 2>&1
	pm "$1" run -d --name "$c" "${pmrun[@]}" -v "$T/view.sh:/view.sh:ro" "$IMG" sleep 1000 >/dev/null || return 1
	pm "$1" exec "$c" sh /view.sh >"$2" 2>&1
	rc=$?
	pm "$1" rm -f -t 0 "$c" >/dev/null 2>&1
	return $rc
}
dk_view_run() { docker run --rm --runtime "eng-$1" --network none -v "$T/view.sh:/view.sh:ro" "$IMG" sh /view.sh >"$2" 2>&1; }
dk_view_exec() {
	local c=dkv-$1 rc
	docker rm -f "$c" >/dev/null 2>&1
	docker run -d --name "$c" --runtime "eng-$1" --network none -v "$T/view.sh:/view.sh:ro" "$IMG" sleep 1000 >/dev/null || return 1
	docker exec "$c" sh /view.sh >"$2" 2>&1
	rc=$?
	docker rm -f "$c" >/dev/null 2>&1
	return $rc
}
ct_view_run() {
	local id=cv-$1 o
	ct_rmf "$id"
	mapfile -t o < <(ctopts "$1" "$id")
	"${CTR[@]}" run --rm "${o[@]}" --mount "type=bind,src=$T/view.sh,dst=/view.sh,options=rbind:ro" "$IMG" "$id" sh /view.sh >"$2" 2>&1
}
ct_view_exec() {
	local id=cve-$1 o rc
	ct_rmf "$id"
	mapfile -t o < <(ctopts "$1" "$id")
	"${CTR[@]}" run -d --null-io "${o[@]}" --mount "type=bind,src=$T/view.sh,dst=/view.sh,options=rbind:ro" "$IMG" "$id" sleep 1000 >/dev/null || return 1
	wait_for 10 ct_is "$id" RUNNING || return 1
	"${CTR[@]}" tasks exec --fifo-dir "$CTD/fifo" --exec-id view "$id" sh /view.sh >"$2" 2>&1
	rc=$?
	ct_rmf "$id"
	return $rc
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
pm_checkpoint() {
	local c=pmcr-$1 n
	pm "$1" rm -f -t 0 "$c" >/dev/null 2>&1
	pm "$1" run -d --name "$c" "${pmrun[@]}" "$IMG" "${count_cmd[@]}" || return 1
	wait_for 10 pm_logs_have "$1" "$c" $'\n5' || fail "the container never counted to 5" || return 1
	pm "$1" container checkpoint "$c" || return 1
	want_eq "$(pm_status "$1" "$c")" exited "status after checkpoint" || return 1
	n=$(pm "$1" logs "$c" 2>&1 | last_count)
	pm "$1" container restore "$c" || return 1
	want_eq "$(pm_status "$1" "$c")" running "status after restore" || return 1
	wait_for 10 pm_logs_have "$1" "$c" $'\n'"$((n + 1))" || fail "the restored container did not count on from $n" || return 1
	want_eq "$(pm "$1" logs "$c" 2>&1 | grep -cx 1)" 1 "times the count started at 1" || return 1
	pm "$1" rm -f -t 0 "$c"
}
ct_checkpoint() {
	local id=ccr-$1 id2=ccr2-$1 o ref=localhost/checkpoint-$1:engines n
	ct_rmf "$id"; ct_rmf "$id2"; "${CTR[@]}" images rm "$ref" >/dev/null 2>&1
	mapfile -t o < <(ctopts "$1" "$id")
	ct run -d "${o[@]}" --log-uri "file://$CTD/$id.log" "$IMG" "$id" "${count_cmd[@]}" || return 1
	wait_for 10 grep -qx 5 "$CTD/$id.log" || fail "the task never counted to 5" || return 1
	ct containers checkpoint --task "$id" "$ref" || return 1
	ct_rmf "$id"
	n=$(last_count <"$CTD/$id.log")
	ct containers restore --live "$id2" "$ref" || { ct_rmf "$id2"; return 1; }
	wait_for 10 ct_is "$id2" RUNNING || fail "status $(ct_status "$id2") after restore, want RUNNING" || { ct_rmf "$id2"; return 1; }
	ct_rmf "$id2"
	"${CTR[@]}" images rm "$ref" >/dev/null 2>&1
	[[ -n $n ]] || fail "no count before the checkpoint"
}
podman_checkpoint_cases() {
	checkpoint_case podman checkpoint-restore "$1" pm_checkpoint "$1"
}
containerd_checkpoint_cases() {
	checkpoint_case containerd checkpoint-restore "$1" ct_checkpoint "$1"
}

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
