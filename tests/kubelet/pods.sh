# The pods of the kubelet suite and what each case checks, sourced by
# suite.sh (uses H, P, RES, NODE, CGROOT, CG, CRICTL, KPID, CPID, poll, say).
# A case prints "PASS name" or "FAIL name: why" into $RES.cases; every
# verdict rests on the kubelet's read-only port (/pods), crictl or the
# kernel (/proc, cgroup files, the kernel log), never on the runtime's word.

IMG=localhost/casco-cri/busybox:1
PROBES=${KUBELET_PROBES:-60}

pass() { echo "PASS $1" >>"$RES.cases"; say "PASS $1"; }
fail() { echo "FAIL $1: $2" >>"$RES.cases"; say "FAIL $1: $2"; }

# ---------------------------------------------------------------- the kubelet's and crictl's view
pods_json() { curl -sf --max-time 10 http://127.0.0.1:10255/pods; }
# pod NAME JQ: JQ applied to static pod NAME's object in the kubelet's /pods
pod() { pods_json | jq -r --arg n "$1-$NODE" ".items[]? | select(.metadata.name == \$n) | $2"; }
# ctr_status NAME CONTAINER JQ: JQ applied to the container's status
ctr_status() { pod "$1" ".status.containerStatuses[]? | select(.name == \"$2\") | $3"; }
# cid NAME CONTAINER: the CRI id of the container's current instance
cid() { ctr_status "$1" "$2" '.containerID // empty' | sed 's|^containerd://||'; }
# cpid CID: the container's init pid, as containerd reports it
cpid() { "${CRICTL[@]}" inspect "$1" 2>/dev/null | jq -r '.info.pid // empty'; }
# running NAME: every container of the pod is running
running() {
	local s
	s=$(pod "$1" '[.status.containerStatuses[]? | .state.running != null] | (length > 0 and all)') && [[ $s == true ]]
}
all_running() { local n; for n; do running "$n" || return 1; done; }
# cg_file PID CONTROLLER FILE: FILE of the process' cgroup in CONTROLLER
cg_file() {
	local path
	path=$(awk -F: -v c="$2" '{n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3}' "/proc/$1/cgroup")
	cat "$CG/$2$path/$3"
}
cg_path() { awk -F: -v c="$2" '{n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3}' "/proc/$1/cgroup"; }

# add MANIFEST...: whole files only (the kubelet skips hidden names)
add() { local m; for m; do cp "$P/src/$m.yaml" "$P/manifests/.$m.yaml" && mv "$P/manifests/.$m.yaml" "$P/manifests/$m.yaml"; done; }
del() { local m; for m; do rm -f "$P/manifests/$m.yaml"; done; }
gone() { local n; for n; do [[ -z $(pod "$n" .metadata.name) ]] || return 1; done; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# ---------------------------------------------------------------- the manifests
manifests() {
	mkdir -p "$P/src"
	local busy="image: $IMG
    imagePullPolicy: Never"
	# two containers, one emptyDir: the writer writes, the reader reads
	cat >"$P/src/share.yaml" <<EOF
apiVersion: v1
kind: Pod
metadata: {name: share}
spec:
  dnsPolicy: Default
  terminationGracePeriodSeconds: 2
  volumes: [{name: data, emptyDir: {}}]
  containers:
  - name: writer
    $busy
    command: [sh, -c, 'echo "written by the writer in pod share" >/data/msg; exec sleep 3600']
    volumeMounts: [{name: data, mountPath: /data}]
  - name: reader
    $busy
    command: [sh, -c, 'until [ -e /data/msg ]; do sleep 0.1; done; echo "reader got: \$(cat /data/msg)"; exec sleep 3600']
    volumeMounts: [{name: data, mountPath: /data}]
EOF
	# an exec liveness and an exec readiness probe, every second; each
	# run leaves a line in /tmp/probes, the count of probes the node ran
	cat >"$P/src/probe.yaml" <<EOF
apiVersion: v1
kind: Pod
metadata: {name: probe}
spec:
  dnsPolicy: Default
  terminationGracePeriodSeconds: 2
  containers:
  - name: app
    $busy
    command: [sh, -c, 'touch /tmp/healthy /tmp/ready; exec sleep 3600']
    livenessProbe:
      exec: {command: [sh, -c, 'echo l >>/tmp/probes; test -e /tmp/healthy']}
      periodSeconds: 1
      failureThreshold: 3
    readinessProbe:
      exec: {command: [sh, -c, 'echo r >>/tmp/probes; test -e /tmp/ready']}
      periodSeconds: 1
      failureThreshold: 1
EOF
	# a liveness probe that starts failing when /tmp/healthy goes
	cat >"$P/src/flaky.yaml" <<EOF
apiVersion: v1
kind: Pod
metadata: {name: flaky}
spec:
  dnsPolicy: Default
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    $busy
    command: [sh, -c, 'touch /tmp/healthy; exec sleep 3600']
    livenessProbe:
      exec: {command: [test, -e, /tmp/healthy]}
      periodSeconds: 1
      failureThreshold: 2
EOF
	cat >"$P/src/crash.yaml" <<EOF
apiVersion: v1
kind: Pod
metadata: {name: crash}
spec:
  dnsPolicy: Default
  restartPolicy: Always
  containers:
  - name: app
    $busy
    command: [sh, -c, 'echo crashing; exit 3']
EOF
	# dd's 64 MiB buffer, filled from /dev/zero, in a 24 MiB container
	cat >"$P/src/oom.yaml" <<EOF
apiVersion: v1
kind: Pod
metadata: {name: oom}
spec:
  dnsPolicy: Default
  restartPolicy: Never
  containers:
  - name: app
    $busy
    command: [dd, if=/dev/zero, of=/dev/null, bs=64M, count=4]
    resources:
      limits: {memory: 24Mi}
EOF
	cat >"$P/src/guaranteed.yaml" <<EOF
apiVersion: v1
kind: Pod
metadata: {name: guaranteed}
spec:
  dnsPolicy: Default
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    $busy
    command: [sleep, '3600']
    resources:
      requests: {cpu: 200m, memory: 48Mi}
      limits: {cpu: 200m, memory: 48Mi}
EOF
	cat >"$P/src/burstable.yaml" <<EOF
apiVersion: v1
kind: Pod
metadata: {name: burstable}
spec:
  dnsPolicy: Default
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    $busy
    command: [sleep, '3600']
    resources:
      requests: {cpu: 100m, memory: 16Mi}
      limits: {cpu: 300m, memory: 64Mi}
EOF
	cat >"$P/src/besteffort.yaml" <<EOF
apiVersion: v1
kind: Pod
metadata: {name: besteffort}
spec:
  dnsPolicy: Default
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    $busy
    command: [sleep, '3600']
EOF
	cat >"$P/src/hostnet.yaml" <<EOF
apiVersion: v1
kind: Pod
metadata: {name: hostnet}
spec:
  dnsPolicy: Default
  hostNetwork: true
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    $busy
    command: [sleep, '3600']
EOF
	cat >"$P/src/userns.yaml" <<EOF
apiVersion: v1
kind: Pod
metadata: {name: userns}
spec:
  dnsPolicy: Default
  hostUsers: false
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    $busy
    command: [sleep, '3600']
EOF
}

# ---------------------------------------------------------------- measurements
# startup: manifest in place to every container Running (the kubelet's
# word, polled every 50 ms), for three new pods like share, one at a time,
# each torn down before the next
measure_startup() {
	local i t0 ms=()
	for i in 1 2 3; do
		sed "s/name: share}/name: start$i}/" "$P/src/share.yaml" >"$P/src/start$i.yaml"
		t0=$(now_ms)
		add "start$i"
		until all_running "start$i"; do
			(($(now_ms) - t0 < 120000)) || { fail startup "pod start$i not Running in 120 s"; del "start$i"; return 1; }
			sleep 0.05
		done
		ms+=($(($(now_ms) - t0)))
		del "start$i"
		poll 60 gone "start$i" || { fail startup "pod start$i still there 60 s after its manifest went"; return 1; }
		# stopped; removing it is the kubelet's garbage collector's (a minute)
		poll 60 eval '[[ -z $("${CRICTL[@]}" pods -q --state ready) ]]' || { fail startup "the sandbox of pod start$i still ready 60 s after its manifest went"; return 1; }
	done
	say "manifest to all Running: ${ms[*]} ms"
	printf 'manifest to 2 containers Running, ms\t%s\n' "$(printf '%s\n' "${ms[@]}" | sort -n | sed -n 2p)" >>"$RES.measure"
	pass startup
}

# ticks PID: utime+stime and cutime+cstime of a process, in clock ticks
ticks() { awk '{print $14 + $15, $16 + $17}' "/proc/$1/stat"; }
usage() { cat "$CG/cpuacct/$CGROOT/node-$1/cpuacct.usage"; }

# the CPU the node spends per exec probe, over PROBES probe runs of the
# probe pod, alone on the node: the kubelet's, containerd's with the
# pod's shim, and the runtime's (the shim's reaped children: the runtime
# processes and the probe commands, less what the probe commands spent in
# the container's cgroup)
measure_probes() {
	local c pid shim ccg n0 n1 k0 k1 d0 d1 s0 s1 sc0 sc1 u0 u1 hz n
	c=$(cid probe app) && pid=$(cpid "$c") && [[ -n $pid ]] || { fail probe-cpu "no pid for the probe container"; return 1; }
	shim=$(awk '/^PPid:/ {print $2}' "/proc/$pid/status")
	[[ $(tr '\0' ' ' <"/proc/$shim/cmdline") == *containerd-shim* ]] || { fail probe-cpu "the parent of $pid is no shim"; return 1; }
	ccg=$CG/cpuacct$(cg_path "$pid" cpuacct)
	hz=$(getconf CLK_TCK)
	n0=$(wc -l <"/proc/$pid/root/tmp/probes")
	k0=$(usage kubelet) d0=$(usage containerd) u0=$(cat "$ccg/cpuacct.usage")
	read -r s0 sc0 < <(ticks "$shim")
	poll $((PROBES + 60)) eval '(($(wc -l <"/proc/$pid/root/tmp/probes") - n0 >= PROBES))' ||
		{ fail probe-cpu "fewer than $PROBES probes in $((PROBES + 60)) s"; return 1; }
	n1=$(wc -l <"/proc/$pid/root/tmp/probes")
	k1=$(usage kubelet) d1=$(usage containerd) u1=$(cat "$ccg/cpuacct.usage")
	read -r s1 sc1 < <(ticks "$shim")
	n=$((n1 - n0))
	awk -v n="$n" -v k=$((k1 - k0)) -v d=$((d1 - d0)) -v u=$((u1 - u0)) -v sc=$((sc1 - sc0)) -v hz="$hz" 'BEGIN {
		rt = sc * 1000 / hz - u / 1e6; if (rt < 0) rt = 0
		printf "exec probes measured\t%d\n", n
		printf "node CPU per exec probe (kubelet + containerd + shim + runtime + probe), ms\t%.1f\n", (k + d + u) / 1e6 / n
		printf "  the kubelet, ms\t%.1f\n", k / 1e6 / n
		printf "  containerd and the shim, ms\t%.1f\n", (d / 1e6 - rt) / n
		printf "  the runtime (its processes), ms\t%.1f\n", rt / n
		printf "  the probe command in the container, ms\t%.1f\n", u / 1e6 / n
	}' >>"$RES.measure"
	say "$n probes: $(tr '\t\n' '= ' <"$RES.measure" | sed 's/.*probes measured/probes measured/')"
	pass probe-cpu
}

# ---------------------------------------------------------------- the cases
case_share() {
	local w r wp rp wm rm
	w=$(cid share writer) r=$(cid share reader)
	wp=$(cpid "$w") rp=$(cpid "$r")
	[[ -n $wp && -n $rp ]] || { fail share "no pids for the containers of pod share"; return; }
	# the kernel: one directory mounted at /data in both
	wm=$(awk '$5 == "/data" {print $3, $4}' "/proc/$wp/mountinfo")
	rm=$(awk '$5 == "/data" {print $3, $4}' "/proc/$rp/mountinfo")
	[[ -n $wm && $wm == "$rm" ]] || { fail share "/data differs: writer '$wm', reader '$rm'"; return; }
	[[ $wm == *kubernetes.io~empty-dir/data ]] || { fail share "/data is not the emptyDir: $wm"; return; }
	poll 30 eval '"${CRICTL[@]}" logs "$r" 2>&1 | grep -q "reader got: written by the writer in pod share"' ||
		{ fail share "crictl logs of the reader: $("${CRICTL[@]}" logs "$r" 2>&1 | tail -n 2)"; return; }
	pass share
}

# crictl exec -it with a terminal (script gives crictl one), and the logs
# the kubelet keeps in its pod log dir
case_exec_tty() {
	local r out
	r=$(cid share reader)
	out=$(script -qec "${CRICTL[*]} exec -it $r sh -c 'tty; test -t 0 && echo stdin-is-a-tty; cat /data/msg'" /dev/null 2>&1 | tr -d '\r')
	[[ $out == */dev/pts/* && $out == *stdin-is-a-tty* && $out == *"written by the writer"* ]] ||
		{ fail exec-tty "crictl exec -it said: $(head -c 300 <<<"$out")"; return; }
	ls "$P"/pod-logs/*_share-"$NODE"_*/reader/0.log >/dev/null 2>&1 &&
		grep -q "reader got" "$P"/pod-logs/*_share-"$NODE"_*/reader/0.log ||
		{ fail exec-tty "no reader log in the kubelet's pod log dir"; return; }
	pass exec-tty
}

case_readiness() {
	local c pid
	poll 30 eval '[[ $(ctr_status probe app .ready) == true ]]' || { fail readiness "probe/app never ready"; return; }
	c=$(cid probe app) pid=$(cpid "$c")
	rm -f "/proc/$pid/root/tmp/ready"
	poll 30 eval '[[ $(ctr_status probe app .ready) == false ]]' || { fail readiness "probe/app still ready without /tmp/ready"; return; }
	[[ $(ctr_status probe app .restartCount) == 0 ]] || { fail readiness "a failing readiness probe restarted probe/app"; return; }
	pass readiness
}

case_liveness() {
	local c pid
	poll 30 running flaky || { fail liveness "pod flaky not Running"; return; }
	c=$(cid flaky app) pid=$(cpid "$c")
	[[ $(ctr_status flaky app .restartCount) == 0 ]] || { fail liveness "flaky/app restarted before its probe failed"; return; }
	rm -f "/proc/$pid/root/tmp/healthy" || { fail liveness "cannot remove /tmp/healthy of pid $pid"; return; }
	poll 60 eval '(($(ctr_status flaky app .restartCount) >= 1))' || { fail liveness "flaky/app not restarted 60 s after its probe began failing"; return; }
	poll 30 running flaky || { fail liveness "flaky/app not Running again after its restart"; return; }
	[[ $(cid flaky app) != "$c" ]] && ! kill -0 "$pid" 2>/dev/null || { fail liveness "the old instance (pid $pid) lives on"; return; }
	grep -q 'failed liveness probe, will be restarted' "$P/logs/kubelet.log" || { fail liveness "the kubelet logged no liveness restart"; return; }
	pass liveness
}

case_crash() {
	local code
	poll 90 eval '[[ $(ctr_status crash app .state.waiting.reason) == CrashLoopBackOff ]] && (($(ctr_status crash app .restartCount) >= 1))' ||
		{ fail crash "crash/app not in CrashLoopBackOff: $(ctr_status crash app '.state, .restartCount' | tr -d ' \n' | head -c 300)"; return; }
	code=$(ctr_status crash app .lastState.terminated.exitCode)
	[[ $code == 3 ]] || { fail crash "last exit code $code, not 3"; return; }
	# crictl: the instances the kubelet keeps (it collects all but the
	# last dead one) exited 3, the last one a restart (attempt 1 or more)
	local ids id st max=0
	ids=$("${CRICTL[@]}" ps -a -q --name '^app$' --label io.kubernetes.pod.name="crash-$NODE" --state exited)
	[[ -n $ids ]] || { fail crash "crictl shows no exited instance"; return; }
	for id in $ids; do
		st=$("${CRICTL[@]}" inspect "$id" | jq -r '"\(.status.exitCode) \(.status.metadata.attempt)"')
		[[ ${st% *} == 3 ]] || { fail crash "instance $id exited ${st% *}, not 3"; return; }
		((${st#* } > max)) && max=${st#* }
	done
	((max >= 1)) || { fail crash "no instance is a restart (attempt 1 or more)"; return; }
	"${CRICTL[@]}" logs "$id" 2>&1 | grep -q crashing || { fail crash "crictl logs of $id lack 'crashing'"; return; }
	pass crash
}

case_oom() {
	local c reason
	poll 60 eval '[[ -n $(ctr_status oom app .state.terminated.reason) ]]' || { fail oom "oom/app did not terminate"; return; }
	reason=$(ctr_status oom app .state.terminated.reason)
	[[ $reason == OOMKilled ]] || { fail oom "kubelet says reason $reason, exit $(ctr_status oom app .state.terminated.exitCode)"; return; }
	c=$(cid oom app)
	[[ $("${CRICTL[@]}" inspect "$c" | jq -r .status.reason) == OOMKilled ]] || { fail oom "crictl says reason $("${CRICTL[@]}" inspect "$c" | jq -r .status.reason)"; return; }
	# the kernel's oom-kill line names the container's memory cgroup (the
	# limit hit may be the pod's, which holds the sandbox too)
	grep 'oom-kill:' "$P/logs/kmsg" | grep -q "oom_memcg=/$CGROOT/kubepods/burstable/pod.*task_memcg=/$CGROOT/kubepods/burstable/pod[^/]*/$c," ||
		{ fail oom "the kernel log has no memcg OOM kill in $c's cgroup"; return; }
	pass oom
}

# qos NAME CGDIR MEM QUOTA SHARES: the container's cgroups sit at
# /CGROOT/kubepods/CGDIR/pod<uid>/<id> and hold the limits given
qos() {
	local uid c pid want m q s
	uid=$(pod "$1" .metadata.uid)
	c=$(cid "$1" app) pid=$(cpid "$c")
	[[ -n $pid ]] || { fail "qos-$1" "no pid for $1/app"; return; }
	want=/$CGROOT/kubepods${2:+/$2}/pod$uid/$c
	for ctl in memory cpu pids; do
		[[ $(cg_path "$pid" $ctl) == "$want" ]] || { fail "qos-$1" "$ctl cgroup $(cg_path "$pid" $ctl), not $want"; return; }
	done
	m=$(cg_file "$pid" memory memory.limit_in_bytes)
	q=$(cg_file "$pid" cpu cpu.cfs_quota_us)
	s=$(cg_file "$pid" cpu cpu.shares)
	[[ $m == "$3" && $q == "$4" && $s == "$5" ]] ||
		{ fail "qos-$1" "memory.limit_in_bytes $m cpu.cfs_quota_us $q cpu.shares $s, want $3 $4 $5"; return; }
	[[ $(pod "$1" .status.qosClass) == "$6" ]] || { fail "qos-$1" "the kubelet says qosClass $(pod "$1" .status.qosClass)"; return; }
	pass "qos-$1"
}

case_hostnet() {
	local pid
	pid=$(cpid "$(cid hostnet app)")
	[[ -n $pid && $(readlink "/proc/$pid/ns/net") == "$(readlink /proc/$KPID/ns/net)" ]] ||
		{ fail hostnet "hostnet/app (pid $pid) is not in the node's network namespace"; return; }
	pid=$(cpid "$(cid besteffort app)")
	[[ $(readlink "/proc/$pid/ns/net") != "$(readlink /proc/$KPID/ns/net)" ]] || { fail hostnet "a pod network pod is in the node's network namespace"; return; }
	pass hostnet
}

case_userns() {
	local pid map
	pid=$(cpid "$(cid userns app)")
	[[ -n $pid ]] || { fail userns "pod userns not running: $(pod userns '.status.containerStatuses[]?.state' | tr -d ' \n' | head -c 300) $(grep -m1 -i 'user namespace' "$P/logs/kubelet.log" | cut -c1-300)"; return; }
	map=$(awk 'NR == 1 {print $1, $2, $3}' "/proc/$pid/uid_map")
	[[ $map != "0 0 4294967295" && ${map%% *} == 0 && $(awk '{print $2}' <<<"$map") != 0 ]] ||
		{ fail userns "uid_map of the container: $map"; return; }
	awk '/^Uid:/ {exit !($2 != 0)}' "/proc/$pid/status" || { fail userns "the container runs as host uid 0"; return; }
	pass userns
}

# teardown: with every manifest gone, nothing of the pods is left: no pod
# for the kubelet, no sandbox or container for crictl, no pod cgroup, no
# mount of a pod, no process of the shims, no state in the runtime's root
case_teardown() {
	local left=()
	rm -f "$P"/manifests/*.yaml
	poll 90 eval '[[ $(pods_json | jq ".items | length") == 0 ]]' || left+=("kubelet pods: $(pods_json | jq -r '[.items[].metadata.name] | join(" ")')")
	# the kubelet's garbage collector removes the stopped sandboxes, once a minute
	poll 150 eval '[[ -z $("${CRICTL[@]}" pods -q) ]]' || left+=("sandboxes: $("${CRICTL[@]}" pods -q | tr '\n' ' ')")
	poll 60 eval '[[ -z $("${CRICTL[@]}" ps -a -q) ]]' || left+=("containers: $("${CRICTL[@]}" ps -a -q | tr '\n' ' ')")
	local pods
	poll 30 eval '[[ -z $(find "$CG"/*/"$CGROOT"/kubepods -type d -name "pod*" 2>/dev/null) ]]' ||
		left+=("pod cgroups: $(find "$CG"/*/"$CGROOT"/kubepods -type d -name 'pod*' | head -5 | tr '\n' ' ')")
	poll 30 eval '[[ -z $(pgrep -f -- "containerd-shim-runc-v2 .*-address $SOCK") ]]' || left+=("shims: $(pgrep -f -- "$SOCK" | tr '\n' ' ')")
	pods=$(findmnt -rn -o TARGET | grep -E "$P/(kubelet/pods|state|root/io.containerd)" | grep -v '/root/io.containerd.snapshotter.v1.overlayfs$')
	[[ -z $pods ]] || left+=("mounts: $(head -5 <<<"$pods" | tr '\n' ' ')")
	[[ -z $("${HBIN[$H]}" --root "$P/rt/$H.root/k8s.io" list -q 2>/dev/null) ]] || left+=("$H containers: $("${HBIN[$H]}" --root "$P/rt/$H.root/k8s.io" list -q | tr '\n' ' ')")
	# casco keeps its compiled seccomp filters, keyed by profile, in
	# .seccomp-cache beside the containers' state: a cache, no container's
	local state
	state=$(ls -A "$P/rt/$H.root/k8s.io" 2>/dev/null | grep -vx .seccomp-cache)
	[[ -z $state ]] || left+=("$H state: $(head -3 <<<"$state" | tr '\n' ' ')")
	[[ -z $(ls -A "$P/state/io.containerd.runtime.v2.task/k8s.io" 2>/dev/null) ]] || left+=("shim bundles: $(ls -A "$P/state/io.containerd.runtime.v2.task/k8s.io" | head -3 | tr '\n' ' ')")
	[[ -z $(ls -A "$P/kubelet/pods" 2>/dev/null) ]] || left+=("kubelet pod dirs: $(ls -A "$P/kubelet/pods" | head -3 | tr '\n' ' ')")
	((${#left[@]} == 0)) || { fail teardown "$(printf '%s; ' "${left[@]}")"; return; }
	pass teardown
}

run_cases() {
	manifests
	measure_startup
	add probe
	if poll 60 running probe && poll 30 eval '[[ $(ctr_status probe app .ready) == true ]]'; then
		measure_probes
		case_readiness
	else
		fail probe-cpu "pod probe not Running and ready"
	fi
	# the kernel log from here on, for the OOM kill
	dmesg --follow-new >"$P/logs/kmsg" 2>&1 &
	local kmsg=$!
	add share flaky crash oom guaranteed burstable besteffort hostnet userns
	if poll 120 all_running share guaranteed burstable besteffort hostnet; then
		case_share
		case_exec_tty
		qos guaranteed "" 50331648 20000 204 Guaranteed
		qos burstable burstable 67108864 30000 102 Burstable
		qos besteffort besteffort 9223372036854771712 -1 2 BestEffort
		case_hostnet
	else
		fail pods "not all of share guaranteed burstable besteffort hostnet Running in 120 s: $(pods_json | jq -c '[.items[] | {n: .metadata.name, s: [.status.containerStatuses[]?.state | keys[0]]}]' | head -c 600)"
	fi
	poll 60 running userns
	case_userns
	case_liveness
	case_crash
	case_oom
	kill "$kmsg"
	wait "$kmsg" 2>/dev/null
	case_teardown
}
