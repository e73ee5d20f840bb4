# shellcheck shell=bash
# containerd.sh: the containerd cases of run.sh, which sources it: ctr
# with the runc v2 shim; containerd's set-up (shared with dockerd), its
# helpers (ct_*) and its cases, each run once per runtime.

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

# --- found by this suite: each of these once failed with casco and passed with runc

# --- more of what engines ask of a runtime
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
ct_device_fuse() {
	local id=cf-$1 o out
	ct_rmf "$id"
	mapfile -t o < <(ctopts "$1" "$id")
	out=$(ct run --rm "${o[@]}" "$IMG" "$id" sh -c "$fuse_script" 2>&1)
	echo "$out"
	want_eq "$(tail -n1 <<<"$out")" "fuse denied" "open of a mknod'ed /dev/fuse"
}
containerd_found_cases() {
	runcase containerd kill-paused "$1" ct_kill_paused "$1"
	runcase containerd device-cgroup-fuse "$1" ct_device_fuse "$1"
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
containerd_checkpoint_cases() {
	checkpoint_case containerd checkpoint-restore "$1" ct_checkpoint "$1"
}
