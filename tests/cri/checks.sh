# The crictl walkthrough and the pod-level checks, sourced by suite.sh
# (uses its D, CRICTL, CPID, HBIN, RESTRICT_OOM, major, say).
# Every check asks the kernel (/proc/<pid>/ns, oom_score_adj, uid_map) or
# the bundle containerd handed the runtime, not what CRI reports.
# Results: DIR/results/<handler>.checks, one "PASS|FAIL|SKIP|PENDING name: why" a line.

# poll SECONDS CMD...: until CMD succeeds (0.2 s steps); never a fixed wait
poll() {
	local n=$(($1 * 5)); shift
	while ((n-- > 0)); do "$@" && return 0; sleep 0.2; done
	"$@"
}
gone() { [[ ! -e /proc/$1 ]]; }
ctr_state() { "${CRICTL[@]}" inspect -o json "$1" 2>/dev/null | jq -r .status.state; }
ctr_pid() { "${CRICTL[@]}" inspect -o json "$1" 2>/dev/null | jq -r .info.pid; }
pod_pid() { "${CRICTL[@]}" inspectp -o json "$1" 2>/dev/null | jq -r .info.pid; }
is_state() { [[ $(ctr_state "$1") == "$2" ]]; }
ns_of() { readlink "/proc/$1/ns/$2"; }

# podjson NAME [EXTRA-JSON-FOR-.linux] [EXTRA-TOP-LEVEL]: a sandbox config
podjson() {
	local f=$D/pods/$1.pod.json
	mkdir -p "$D/pods/$1"
	jq -n --arg n "$1" --arg d "$D/pods/$1" --argjson linux "${2:-{\}}" --argjson top "${3:-{\}}" \
		'{metadata: {name: $n, namespace: "casco-cri", uid: ($n + "-uid"), attempt: 0},
		  hostname: $n, log_directory: $d, linux: ({cgroup_parent: ""} + $linux)} + $top' >"$f"
	echo "$f"
}
# ctrjson NAME COMMAND-JSON [EXTRA-JSON-FOR-.linux] [EXTRA-TOP-LEVEL]
ctrjson() {
	local f=$D/pods/$1.ctr.json
	jq -n --arg n "$1" --argjson cmd "$2" --argjson linux "${3:-{\}}" --argjson top "${4:-{\}}" \
		'{metadata: {name: $n}, image: {image: "localhost/casco-cri/busybox:1"}, command: $cmd,
		  log_path: ($n + ".log"), linux: $linux} + $top' >"$f"
	echo "$f"
}
# start_pod HANDLER PODJSON CTRJSON: sets POD, CID, SPID (sandbox) and CPID_ (container)
start_pod() {
	POD= CID= SPID= CPID_=
	POD=$("${CRICTL[@]}" runp --runtime "$1" "$2") || { echo "crictl runp failed"; return 1; }
	CID=$("${CRICTL[@]}" create "$POD" "$3" "$2") || { echo "crictl create failed"; return 1; }
	"${CRICTL[@]}" start "$CID" >/dev/null || { echo "crictl start failed"; return 1; }
	poll 60 is_state "$CID" CONTAINER_RUNNING || { echo "container never ran: $(ctr_state "$CID")"; return 1; }
	SPID=$(pod_pid "$POD") CPID_=$(ctr_pid "$CID")
	[[ $SPID =~ ^[1-9][0-9]*$ && $CPID_ =~ ^[1-9][0-9]*$ ]] || { echo "no pids: sandbox '$SPID' container '$CPID_'"; return 1; }
}
end_pod() {
	[[ -n ${POD:-} ]] || return 0
	"${CRICTL[@]}" stopp "$POD" >/dev/null 2>&1
	"${CRICTL[@]}" rmp -f "$POD" >/dev/null 2>&1
	POD=
}

# check HANDLER NAME FUNCTION: run one check, log to DIR/logs/check.<h>.<name>.log
check() {
	local h=$1 name=$2 log=$D/logs/check.$1.$2.log res why
	shift 2
	("$@") >"$log" 2>&1
	case $? in
	0) res=PASS ;;
	3) res=PENDING ;;
	4) res=SKIP ;;
	*) res=FAIL ;;
	esac
	why=$(tail -n 1 "$log")
	echo "$res $name${why:+: $why}" >>"$D/results/$h.checks"
	say "$res $h $name${why:+: $why}"
	[[ $res == FAIL ]] && sed 's/^/    | /' "$log" | tail -n 20
	return 0
}

# ---------------------------------------------------------------- the walkthrough
# runp, create, start, exec (stdin, tty, exit code), logs, stats, stop, rm,
# stopp, rmp: each step checked against the kernel or the runtime's state
walkthrough() {
	local h=$1 p c out pid spid
	p=$(podjson "walk-$h")
	c=$(ctrjson "walk" '["sh","-c","echo walkthrough-hello; exec sleep 3600"]')
	start_pod "$h" "$p" "$c" || return 1
	pid=$CPID_ spid=$SPID
	out=$(echo stdin-data | timeout 60 "${CRICTL[@]}" exec -i "$CID" cat) && [[ $out == stdin-data ]] ||
		{ echo "exec -i: got '$out'"; return 1; }
	# a real pty for exec -t: util-linux script gives crictl one
	out=$(timeout 60 script -qec "${CRICTL[*]} exec -it $CID sh -c 'tty; echo tty-ok'" /dev/null </dev/null)
	[[ $out == */dev/pts/* && $out == *tty-ok* ]] || { echo "exec -it: got '$out'"; return 1; }
	# crictl reports the process's exit code in its error
	out=$(timeout 60 "${CRICTL[@]}" exec "$CID" sh -c 'exit 3' 2>&1) && { echo "exec: exit 3 reported as success"; return 1; }
	[[ $out == *"exit code 3"* ]] || { echo "exec: exit code 3 not passed through: $out"; return 1; }
	poll 30 eval '[[ $("${CRICTL[@]}" logs "$CID" 2>&1) == *walkthrough-hello* ]]' || { echo "logs: no walkthrough-hello"; return 1; }
	out=$("${CRICTL[@]}" stats -o json --id "$CID") || return 1
	[[ $(jq -r '.stats[0].memory.workingSetBytes.value // 0' <<<"$out") -gt 0 ]] || { echo "stats: no memory usage: $out"; return 1; }
	"${CRICTL[@]}" stop -t 10 "$CID" || return 1
	poll 30 gone "$pid" || { echo "stop: pid $pid still runs"; return 1; }
	poll 30 is_state "$CID" CONTAINER_EXITED || { echo "stop: state $(ctr_state "$CID")"; return 1; }
	"${CRICTL[@]}" rm "$CID" || return 1
	[[ -z $("${CRICTL[@]}" ps -a -q --id "$CID") ]] || { echo "rm: container still listed"; return 1; }
	[[ ! -e $D/rt/$h.root/k8s.io/$CID ]] || { echo "rm: runtime state $D/rt/$h.root/k8s.io/$CID left"; return 1; }
	"${CRICTL[@]}" stopp "$POD" || return 1
	poll 30 gone "$spid" || { echo "stopp: sandbox pid $spid still runs"; return 1; }
	"${CRICTL[@]}" rmp "$POD" || return 1
	[[ -z $("${CRICTL[@]}" pods -q --id "$POD") ]] || { echo "rmp: pod still listed"; return 1; }
	[[ ! -e $D/rt/$h.root/k8s.io/$POD ]] || { echo "rmp: runtime state of the sandbox left"; return 1; }
	POD=
	echo "runp create start exec(-i,-it,rc) logs stats stop rm stopp rmp"
}

# ---------------------------------------------------------------- pod checks
# a pod's container joins the sandbox's net, ipc, uts (and with pid=POD the
# pid) namespaces: by path in the bundle, and the same namespaces in /proc
join_namespaces() {
	local h=$1 p c ns cfg paths
	p=$(podjson "join-$h" '{"security_context":{"namespace_options":{"pid":0}}}')
	c=$(ctrjson "join" '["sleep","3600"]' '{"security_context":{"namespace_options":{"pid":0}}}')
	start_pod "$h" "$p" "$c" || return 1
	cfg=$D/state/io.containerd.runtime.v2.task/k8s.io/$CID/config.json
	[[ -f $cfg ]] || { echo "no bundle config $cfg"; end_pod; return 1; }
	paths=$(jq -r '.linux.namespaces[] | select(.path) | "\(.type)=\(.path)"' "$cfg" | sort | tr '\n' ' ')
	echo "joined by path: $paths"
	for ns in network ipc uts pid; do
		[[ " $paths" == *" $ns=/proc/$SPID/ns/"* ]] || { echo "the bundle does not join the sandbox's $ns namespace by path (/proc/$SPID/ns/...): $paths"; end_pod; return 1; }
	done
	for ns in net ipc uts pid; do
		[[ $(ns_of "$CPID_" $ns) == "$(ns_of "$SPID" $ns)" ]] ||
			{ echo "$ns: container $(ns_of "$CPID_" $ns) != sandbox $(ns_of "$SPID" $ns)"; end_pod; return 1; }
	done
	[[ $(ns_of "$CPID_" mnt) != "$(ns_of "$SPID" mnt)" ]] || { echo "mnt namespace shared with the sandbox"; end_pod; return 1; }
	end_pod
	echo "net ipc uts pid joined by path, the kernel agrees; own mnt"
}

# the sandbox's oom_score_adj: -998 (containerd's default for sandboxes),
# or containerd's own when restrict_oom_score_adj bounds it (this host
# refuses negative values); a container's own value is passed through
oom_score() {
	local h=$1 p c want got
	p=$(podjson "oom-$h")
	c=$(ctrjson "oom" '["sleep","3600"]' '{"resources":{"oom_score_adj":500}}')
	start_pod "$h" "$p" "$c" || return 1
	want=-998
	[[ $RESTRICT_OOM == true ]] && want=$(cat "/proc/$CPID/oom_score_adj")
	got=$(cat "/proc/$SPID/oom_score_adj")
	[[ $got == "$want" ]] || { echo "sandbox oom_score_adj $got, want $want (restrict_oom_score_adj=$RESTRICT_OOM)"; end_pod; return 1; }
	[[ $(cat "/proc/$CPID_/oom_score_adj") == 500 ]] || { echo "container oom_score_adj $(cat "/proc/$CPID_/oom_score_adj"), want 500"; end_pod; return 1; }
	end_pod
	echo "sandbox $want (restrict_oom_score_adj=$RESTRICT_OOM), container 500"
}

# a host-network pod has the node's hostname and UTS namespace; a pod with
# its own network gets the hostname of its config in a UTS namespace of its own
hostname_check() {
	local h=$1 p c out
	# no hostname in the config, as the kubelet sends host-network pods
	p=$(podjson "hostnet-$h" '{"security_context":{"namespace_options":{"network":2}}}' '{"hostname":""}')
	c=$(ctrjson "hostnet" '["sleep","3600"]' '{"security_context":{"namespace_options":{"network":2}}}')
	start_pod "$h" "$p" "$c" || return 1
	out=$("${CRICTL[@]}" exec "$CID" hostname)
	[[ $out == "$(hostname)" ]] || { echo "host network: hostname '$out', want the node's '$(hostname)'"; end_pod; return 1; }
	[[ $(ns_of "$CPID_" uts) == "$(ns_of self uts)" && $(ns_of "$CPID_" net) == "$(ns_of self net)" ]] ||
		{ echo "host network: the container is not in the node's uts and net namespaces"; end_pod; return 1; }
	end_pod
	p=$(podjson "podnet-$h")
	c=$(ctrjson "podnet" '["sleep","3600"]')
	start_pod "$h" "$p" "$c" || return 1
	out=$("${CRICTL[@]}" exec "$CID" hostname)
	[[ $out == "podnet-$h" ]] || { echo "pod network: hostname '$out', want 'podnet-$h'"; end_pod; return 1; }
	[[ $(ns_of "$CPID_" uts) != "$(ns_of self uts)" ]] || { echo "pod network: the node's uts namespace"; end_pod; return 1; }
	end_pod
	echo "host network: the node's hostname $(hostname) and namespaces; pod network: its own"
}

# a user-namespaced pod (containerd 2.x): uid_map as asked, and an idmapped
# hostPath volume that shows the host's root-owned file as root's inside
userns_check() {
	local h=$1 p c out vol=$D/pods/userns-vol-$1 base=$((200000 + RANDOM % 100 * 65536))
	((major >= 2)) || { echo "containerd $version has no CRI user namespaces"; return 4; }
	if [[ $("${HBIN[$h]}" features 2>/dev/null | jq -r '.linux.mountExtensions.idmap.enabled // false') != true ]]; then
		[[ $h == casco ]] && { echo "pending: casco features lists no idmap mounts yet"; return 3; }
		echo "$h features lists no idmap mounts"; return 4
	fi
	mkdir -p "$vol" && echo userns >"$vol/file" && chown 0:0 "$vol/file"
	local map='[{"host_id":'$base',"container_id":0,"length":65536}]'
	# the kubelet sends the pod's userns to the sandbox and to each
	# container, and the mappings with each volume (idmapped by the runtime)
	local ns='{"security_context":{"namespace_options":{"userns_options":{"mode":0,"uids":'"$map"',"gids":'"$map"'}}}}'
	p=$(podjson "userns-$h" "$ns")
	c=$(ctrjson "userns" '["sleep","3600"]' "$ns" '{"mounts":[{"container_path":"/vol","host_path":"'"$vol"'","readonly":true,"uidMappings":'"$map"',"gidMappings":'"$map"'}]}')
	start_pod "$h" "$p" "$c" || return 1
	out=$(tr -s ' ' <"/proc/$CPID_/uid_map")
	[[ $out == " 0 $base 65536" || $out == "0 $base 65536" ]] || { echo "uid_map '$out', want 0 $base 65536"; end_pod; return 1; }
	[[ $(awk '/^Uid:/ {print $2}' "/proc/$CPID_/status") == "$base" ]] || { echo "the process is not uid $base on the host"; end_pod; return 1; }
	out=$("${CRICTL[@]}" exec "$CID" stat -c '%u %g' /bin/busybox /vol/file | tr '\n' ' ')
	[[ $out == "0 0 0 0 " ]] || { echo "owners inside (rootfs, volume) '$out', want root: no idmapped mounts"; end_pod; return 1; }
	end_pod
	echo "uid_map 0 $base 65536, rootfs and hostPath volume idmapped to root"
}

run_checks() { # handler
	local h=$1
	: >"$D/results/$h.checks"
	check "$h" walkthrough walkthrough "$h"
	check "$h" join-namespaces join_namespaces "$h"
	check "$h" oom-score-adj oom_score "$h"
	check "$h" hostname hostname_check "$h"
	check "$h" userns userns_check "$h"
}
