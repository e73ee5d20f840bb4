# shellcheck shell=bash
# docker.sh: the dockerd cases of run.sh, which sources it: dockerd's
# set-up (on run.sh's containerd), its helpers (dk_*) and its cases, each
# run once per runtime.

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

# --- found by this suite: each of these once failed with casco and passed with runc

# --- more of what engines ask of a runtime
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
dk_exec_oom() {
	local c=dko2-$1 out
	docker rm -f "$c" >/dev/null 2>&1
	run docker run -d --name "$c" --runtime "eng-$1" --network none --oom-score-adj 500 "$IMG" sleep 1000 || return 1
	out=$(run docker exec "$c" sh -c 'echo "init=$(cat /proc/1/oom_score_adj) exec=$(cat /proc/self/oom_score_adj)"' 2>&1)
	echo "$out"
	run docker rm -f "$c" >/dev/null
	want_eq "$(tail -n1 <<<"$out")" "init=500 exec=500" "oom_score_adj of init and exec"
}
dk_prop_run() { # label dir
	run docker run --rm --runtime "eng-$1" --network none --cap-add SYS_ADMIN --security-opt seccomp=unconfined \
		--security-opt apparmor=unconfined -v "$2:/prop:rshared" "$IMG" \
		sh -c 'mount -t tmpfs tmpfs /prop/sub && grep " /prop" /proc/self/mountinfo'
}
dk_propagation() { propagation_check docker "$1" dk_prop_run "$1"; }
dk_device_fuse() {
	dk_in "$1" "fuse denied" -- sh -c "$fuse_script"
}
docker_found_cases() {
	runcase docker kill-paused "$1" dk_kill_paused "$1"
	runcase docker exec-oom-score-adj "$1" dk_exec_oom "$1"
	runcase docker rshared-propagation "$1" dk_propagation "$1"
	runcase docker device-cgroup-fuse "$1" dk_device_fuse "$1"
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
