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
start_time=$(date +%s)

# ---------------------------------------------------------------- packages
need_pkgs=(tmux busybox-static runc)
for e in $ENGINES; do
	case $e in
	podman) need_pkgs+=(podman conmon uidmap golang-github-containers-common) ;;
	containerd) need_pkgs+=(containerd) ;;
	docker) need_pkgs+=(docker.io containerd) ;;
	*) die "unknown engine $e (podman, containerd, docker)" ;;
	esac
done
missing=()
for p in "${need_pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if ((${#missing[@]})); then
	echo "engines: installing ${missing[*]}"
	{ apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"; } >/dev/null ||
		die "apt-get install ${missing[*]} failed"
fi

# ---------------------------------------------------------------- runtimes
if (($# == 0)); then
	set -- /usr/sbin/runc "$repo/casco"
fi
labels=()   # runc, casco, ... (basename, made unique)
declare -A rt_bin rt_real
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
	# containers an engine left behind in a runtime's state dirs
	local l root id
	for l in "${labels[@]}"; do
		for root in "$T"/rt/"$l"/state "$T"/rt/"$l"/state-*; do
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
		printf 'log=%q real=%q\n' "$T/rt/$l/calls.log" "$T/rt/$l/bin"
		printf 'extra=(%s)\n' "$(printf '%q ' "$@")"
		cat <<'EOF'
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
	if ("$@") >"$log" 2>&1 </dev/null; then res=PASS; ((npass++)); else res=FAIL; ((nfail++)); fi
	result["$key|$l"]=$res
	echo "$res $eng $cs $l"
	if [[ $res == FAIL ]]; then
		sed 's/^/    | /' "$log" | tail -n 25
		echo "    runtime calls during the case ($l):"
		tail -n +$((mark + 1)) "$T/rt/$l/calls.log" | cut -c1-1500 | sed 's/^/    > /' | tail -n 40
	fi
	echo "  ($((SECONDS - t0))s) $eng $cs $l" >>"$T/logs/times.log"
	return 0
}

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
	pty_send "$s" 'tty; stty size; echo "six times seven is $((6*7))"' || return 1
	pty_expect "$s" 'six times seven is 42' 20 || return 1
	pty_expect "$s" '/dev/pts/[0-9]+' 5 || return 1
	pty_expect "$s" '(^|[^0-9])30 120' 5 || return 1
	pty_send "$s" "exit $code" || return 1
	local rc
	rc=$(pty_rc "$s" 30)
	want_eq "$rc" "$code" "exit code through the pty" || { tr -d '\r' <"$T/pty/$s.out" | tail -n 20; return 1; }
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
pm_daemon_cmd=(sh -c 'trap "echo got TERM; exit 0" TERM; trap "echo got USR1" USR1; echo started; while :; do sleep 0.2; done')
pm_detach() {
	local c=pm-$1 out
	pm "$1" rm -f -t 0 "$c" >/dev/null 2>&1
	pm "$1" run -d --name "$c" "${pmrun[@]}" "$IMG" "${pm_daemon_cmd[@]}" || return 1
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
exec $(printf '%q ' "${PODMAN[@]}" --runtime "$T/rt/$1/podman/$1" run -it --rm "${pmrun[@]}" "$IMG" sh)
EOF
	pty_start "$s" "$T/pty/$s.sh" && pty_check "$s" 5
}
pm_exec_it() {
	local s=pmexit-$1 c=pmx-$1
	pm "$1" rm -f -t 0 "$c" >/dev/null 2>&1
	pm "$1" run -d --name "$c" "${pmrun[@]}" "$IMG" sleep 1000 || return 1
	cat >"$T/pty/$s.sh" <<EOF
$(declare -p CONTAINERS_CONF CONTAINERS_STORAGE_CONF CONTAINERS_REGISTRIES_CONF | sed 's/^declare -x/export/')
exec $(printf '%q ' "${PODMAN[@]}" --runtime "$T/rt/$1/podman/$1" exec -it "$c" sh)
EOF
	pty_start "$s" "$T/pty/$s.sh" && pty_check "$s" 6 || return 1
	pm "$1" rm -f -t 0 "$c"
}

podman_cases() {
	local l
	for l in "${labels[@]}"; do
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
	done
}

# ================================================================ main
# the tmux server, started here so that its pid is known to the cleanup
mkdir -p "$T/pty"
tmx new-session -d -s keep -x 120 -y 30 "sleep 100000" || die "tmux does not start"
pids_to_stop+=("tmux $(tmx display -p -t keep '#{pid}')")
echo "engines: runtimes: $(for l in "${labels[@]}"; do printf '%s=%s ' "$l" "${rt_real[$l]}"; done)(baseline $baseline); temp dir $T"
for e in $ENGINES; do
	case $e in
	podman)
		if podman_setup; then podman_cases; else
			echo "FAIL podman setup (see below)"; cat "$T/logs/podman.import.log"; ((nfail++)); fi ;;
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
			printf '  (fails with %s too)' "$baseline"
		fi
	done
	echo
done
echo "engines: $((SECONDS)) s"
echo "engines: $npass passed, $nfail failed"
exit $regress
