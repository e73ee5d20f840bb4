#!/usr/bin/env bash
# The kubelet suite proper, run by run.sh inside its own mount, network and
# IPC namespaces (unshare): per handler, containerd with that handler as
# its default runtime and a standalone kubelet, the cases of pods.sh, then
# both stopped by pid and every leftover checked and removed.
#
# usage: suite.sh DIR IMAGES_TAR HANDLER=BINARY...   (the first is the baseline)
# Writes DIR/results/<handler>.{cases,measure,leftovers} for run.sh.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
D=$1 IMAGES=$2
shift 2
HANDLERS=()
declare -A HBIN
for hb in "$@"; do HANDLERS+=("${hb%%=*}"); HBIN[${hb%%=*}]=${hb#*=}; done
NODE=casco-node
# the kubelet's cgroup root: its QoS tree (kubepods, burstable, besteffort)
# and the node's own processes (for the CPU figures) go below it
CGROOT=casco-kubelet-$$
CG=/sys/fs/cgroup
CONTROLLERS=(cpu cpuacct cpuset memory pids blkio devices freezer systemd unified)
say() { echo "[$H] $*"; }
die() { echo "suite: FATAL: $*"; exit 2; }
source "$here/pods.sh"
source "$here/../cri/common.sh" # the leftover_* searches

[[ $(readlink /proc/self/ns/net) != $(readlink /proc/1/ns/net) ]] || die "not in a private network namespace"

# poll SECONDS CMD...: run CMD until it succeeds, at most SECONDS
poll() {
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		((SECONDS < end)) || return 1
		sleep 0.2
	done
}

# up PID SECONDS CMD...: poll CMD while PID lives
up() {
	local pid=$1 end=$((SECONDS + $2))
	shift 2
	until "$@"; do
		((SECONDS < end)) && kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.2
	done
}

# ---------------------------------------------------------------- private mounts
# our copies of / propagate among themselves (the kubelet checks that its
# root dir is shared) but never to the host; /run and /var/lib/cni get
# tmpfs mounts, so what a component hard-codes there stays here
mount --make-rprivate / && mount --make-rshared / || die "cannot make / shared in our mount namespace"
mount -t tmpfs -o mode=755 casco-kubelet-run /run || die "cannot mount a tmpfs on /run"
mount -t tmpfs -o mode=755 casco-kubelet-cni /var/lib/cni || die "cannot mount a tmpfs on /var/lib/cni"
ip link set lo up || die "cannot bring up lo"
mkdir -p "$D/results" "$D/sysctl"
vm/overcommit_memory 1
vm/panic_on_oom 0
kernel/panic 10
kernel/panic_on_oops 1
kernel/keys/root_maxkeys 1000000
kernel/keys/root_maxbytes 25000000
EOF

# the cgroup root in every v1 hierarchy (the kubelet wants it to exist)
for c in "${CONTROLLERS[@]}"; do
	[[ -d $CG/$c ]] || continue
	mkdir "$CG/$c/$CGROOT" || die "cannot make $CG/$c/$CGROOT"
done
cat $CG/cpuset/cpuset.cpus >"$CG/cpuset/$CGROOT/cpuset.cpus" && cat $CG/cpuset/cpuset.mems >"$CG/cpuset/$CGROOT/cpuset.mems" ||
	die "cannot set up the cpuset of $CGROOT"
echo "$CGROOT" >"$D/cgroup-root"
remove_cgroot() {
	local c
	for c in "${CONTROLLERS[@]}"; do
		[[ -d $CG/$c/$CGROOT ]] || continue
		find "$CG/$c/$CGROOT" -depth -type d -exec rmdir {} \; 2>/dev/null
		[[ -d $CG/$c/$CGROOT ]] && echo "suite: cannot remove $CG/$c/$CGROOT"
	done
}
trap 'stop_node; remove_cgroot' EXIT

# ---------------------------------------------------------------- containerd and the kubelet
# setup_node: P=DIR/<handler> with containerd's and the kubelet's config
setup_node() {
	mkdir -p "$P"/{root,state,cni/net.d,cni/ipam,kubelet,logs,manifests,pod-logs,opt}
	SOCK=$P/containerd.sock
	printf 'runtime-endpoint: unix://%s\nimage-endpoint: unix://%s\ntimeout: 60\n' "$SOCK" "$SOCK" >"$P/crictl.yaml"
	CRICTL=(crictl --config "$P/crictl.yaml")
	cat >"$P/cni/net.d/10-casco-kubelet.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "casco-kubelet",
  "plugins": [
    {"type": "bridge", "bridge": "kube0", "isGateway": true, "ipMasq": false,
     "ipam": {"type": "host-local", "dataDir": "$P/cni/ipam", "ranges": [[{"subnet": "10.98.0.0/16"}]]}},
    {"type": "loopback"}
  ]
}
EOF
	# the host forbids negative oom_score_adj when we have no CAP_SYS_RESOURCE
	local restrict=false h
	sh -c 'echo -1 >/proc/self/oom_score_adj' 2>/dev/null || restrict=true
	{
		cat <<EOF
version = 3
root = '$P/root'
state = '$P/state'
disabled_plugins = ['io.containerd.snapshotter.v1.aufs', 'io.containerd.snapshotter.v1.btrfs', 'io.containerd.snapshotter.v1.zfs', 'io.containerd.snapshotter.v1.devmapper', 'io.containerd.tracing.processor.v1.otlp', 'io.containerd.internal.v1.tracing', 'io.containerd.nri.v1.nri']
[grpc]
  address = '$SOCK'
[ttrpc]
  address = '$SOCK.ttrpc'
[debug]
  address = ''
[metrics]
  address = ''
[plugins.'io.containerd.internal.v1.opt']
  path = '$P/opt'
[plugins.'io.containerd.cri.v1.images']
  snapshotter = 'overlayfs'
[plugins.'io.containerd.cri.v1.images'.pinned_images]
  sandbox = 'localhost/casco-cri/pause:1'
[plugins.'io.containerd.cri.v1.runtime']
  restrict_oom_score_adj = $restrict
  netns_mounts_under_state_dir = true
  enable_criu = false
[plugins.'io.containerd.cri.v1.runtime'.containerd]
  default_runtime_name = '$H'
[plugins.'io.containerd.cri.v1.runtime'.cni]
  bin_dirs = ['/usr/lib/cni']
  conf_dir = '$P/cni/net.d'
[plugins.'io.containerd.grpc.v1.cri']
  stream_server_address = '127.0.0.1'
  stream_server_port = '0'
EOF
		for h in "${HANDLERS[@]}"; do
			cat <<EOF
[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.$h]
  runtime_type = 'io.containerd.runc.v2'
[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.$h.options]
  BinaryName = '${HBIN[$h]}'
  Root = '$P/rt/$h.root'
EOF
		done
	} >"$P/containerd.toml"
	echo "nameserver 127.0.0.1" >"$P/resolv.conf"
	cat >"$P/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
containerRuntimeEndpoint: unix://$SOCK
staticPodPath: $P/manifests
fileCheckFrequency: 1s
syncFrequency: 5s
podLogsDir: $P/pod-logs
cgroupDriver: cgroupfs
cgroupRoot: /$CGROOT
cgroupsPerQOS: true
enforceNodeAllocatable: [pods]
failCgroupV1: false
failSwapOn: false
address: 127.0.0.1
port: 10250
readOnlyPort: 10255
healthzBindAddress: 127.0.0.1
healthzPort: 10248
authentication:
  anonymous: {enabled: true}
  webhook: {enabled: false}
authorization: {mode: AlwaysAllow}
resolvConf: $P/resolv.conf
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: "1Ki", nodefs.available: "0%", nodefs.inodesFree: "0%", imagefs.available: "0%", imagefs.inodesFree: "0%"}
serializeImagePulls: false
EOF
}

KPID= CPID=
# in_cgroup NAME CMD...: run CMD in the node cgroup NAME under our root
# (cpu accounting of the kubelet and of containerd with its shims)
in_cgroup() {
	local n=$1
	shift
	mkdir -p "$CG/cpuacct/$CGROOT/node-$n"
	# exec: run in the background, the pid is the command's
	exec sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$CG/cpuacct/$CGROOT/node-$n" "$@"
}

start_node() {
	in_cgroup containerd containerd --config "$P/containerd.toml" >"$P/logs/containerd.log" 2>&1 &
	CPID=$!
	up "$CPID" 60 "${CRICTL[@]}" info >/dev/null 2>&1 || { tail -n 20 "$P/logs/containerd.log"; die "containerd did not come up"; }
	ctr --address "$SOCK" -n k8s.io images import --all-platforms "$IMAGES" >"$P/logs/import.log" 2>&1 ||
		{ cat "$P/logs/import.log"; die "cannot import the images"; }
	# the kubelet sets six host-wide sysctls to its liking (kernel.panic_on_oops
	# among them): it runs in a mount namespace of its own where it finds them
	# so already, in files bound over /proc/sys, and the host's stay as they
	# are. Only /proc is private there: the kubelet's volume mounts still
	# propagate to containerd. (Bound where the runtimes see them, they
	# would stop a user-namespaced pod from mounting its proc.)
	in_cgroup kubelet unshare --mount --propagation unchanged bash -c '
		mount --make-rprivate /proc || exit 1
		while read -r s v; do
			echo "$v" >"$0/${s//\//.}" && mount --bind "$0/${s//\//.}" "/proc/sys/$s" || exit 1
		done <<<"vm/overcommit_memory 1
vm/panic_on_oom 0
kernel/panic 10
kernel/panic_on_oops 1
kernel/keys/root_maxkeys 1000000
kernel/keys/root_maxbytes 25000000"
		exec "$@"' "$D/sysctl" kubelet --config "$P/kubelet.yaml" --root-dir "$P/kubelet" \
		--hostname-override "$NODE" --v 2 >"$P/logs/kubelet.log" 2>&1 &
	KPID=$!
	up "$KPID" 120 curl -sf -o /dev/null http://127.0.0.1:10248/healthz || { tail -n 30 "$P/logs/kubelet.log"; die "the kubelet did not come up"; }
	poll 60 curl -sf -o /dev/null http://127.0.0.1:10255/pods || die "the kubelet's read-only port did not come up"
}

# stop PID NAME: SIGTERM, then SIGKILL after 20 s
stop() {
	[[ -n $1 ]] && kill -0 "$1" 2>/dev/null || return 0
	kill -TERM "$1"
	poll 20 eval "! kill -0 $1 2>/dev/null" || { say "$2 did not stop in 20 s: SIGKILL"; kill -KILL "$1"; }
	wait "$1" 2>/dev/null
}
stop_node() {
	stop "$KPID" kubelet; KPID=
	stop "$CPID" containerd; CPID=
}

# leftovers: what the node left behind once stopped, one line each, removed
leftovers() {
	local p c
	leftover_processes "$P/"
	leftover_containers "$P"
	leftover_mounts "$P"
	# pod cgroups (the QoS tree itself is the kubelet's and stays)
	for c in $(find "$CG"/*/"$CGROOT" -depth -type d -name 'pod*' 2>/dev/null); do
		echo "cgroup $c: $(cat "$c/cgroup.procs" 2>/dev/null | tr '\n' ' ')"
		for p in $(cat "$c"/*/cgroup.procs "$c/cgroup.procs" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
		find "$c" -depth -type d -exec rmdir {} \; 2>/dev/null
	done
}

# ---------------------------------------------------------------- one pass per handler
for H in "${HANDLERS[@]}"; do
	P=$D/$H
	RES=$D/results/$H
	: >"$RES.cases"
	: >"$RES.measure"
	setup_node
	t0=$SECONDS
	start_node
	say "containerd (pid $CPID, default runtime $H) and the kubelet (pid $KPID) up in $((SECONDS - t0))s"
	run_cases
	stop_node
	leftovers >"$RES.leftovers"
	[[ -s $RES.leftovers ]] && sed "s/^/[$H] LEFTOVER /" "$RES.leftovers"
	# the node cgroups, for the next pass
	rmdir "$CG/cpuacct/$CGROOT"/node-* 2>/dev/null
	if [[ ${KUBELET_KEEP:-} != 1 ]]; then
		rm -rf "$P/root" "$P/state" 2>/dev/null
	fi
done
exit 0
