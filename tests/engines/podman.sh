# shellcheck shell=bash
# podman.sh: the podman cases of run.sh, which sources it: podman's set-up
# and clean-up, its helpers (pm_*) and its cases, each run once per runtime.

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

# (the container's view is checked from inside, the cgroups from the host)

# --- more of what engines ask of a runtime
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
pm_prop_run() { # label dir
	pm "$1" run --rm "${pmrun[@]}" --cap-add SYS_ADMIN --security-opt seccomp=unconfined -v "$2:/prop:rshared" "$IMG" \
		sh -c 'mount -t tmpfs tmpfs /prop/sub && grep " /prop" /proc/self/mountinfo'
}
pm_propagation() { propagation_check podman "$1" pm_prop_run "$1"; }
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
pm_device_fuse() {
	pm_in "$1" "fuse denied" --cap-add MKNOD -- sh -c "$fuse_script"
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
podman_checkpoint_cases() {
	checkpoint_case podman checkpoint-restore "$1" pm_checkpoint "$1"
}
