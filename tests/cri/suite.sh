#!/usr/bin/env bash
# One containerd version's CRI suite, run by tests/cri/run.sh inside its own
# mount, network and IPC namespaces (unshare): containerd with every path in
# DIR, critest + the crictl walkthrough + the pod checks per handler, then
# containerd stopped by pid and every leftover checked and removed.
#
# usage: suite.sh LABEL DIR CONTAINERD_BINDIR CRITOOLS_BINDIR IMAGES_TAR HANDLER=BINARY...
#   LABEL             e.g. containerd-2.4.2 (containerd 1.x gets a version 2
#                     config, 2.x a version 3 one)
#   CONTAINERD_BINDIR holds containerd, containerd-shim-runc-v2 and ctr
#   HANDLER=BINARY    a RuntimeClass handler (io.containerd.runc.v2 with
#                     BinaryName=BINARY); the first is the baseline
# Writes DIR/results/<handler>.* (critest JSON report, checks) for run.sh.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LABEL=$1 D=$2 CBIN=$3 TBIN=$4 IMAGES=$5
shift 5
HANDLERS=()
declare -A HBIN
for hb in "$@"; do HANDLERS+=("${hb%%=*}"); HBIN[${hb%%=*}]=${hb#*=}; done
PARALLEL=${CRI_PARALLEL:-3}
TMO=${CRI_TIMEOUT:-60}
export PATH=$TBIN:$CBIN:$PATH

say() { echo "[$LABEL] $*"; }
source "$here/checks.sh"     # the crictl walkthrough, the pod checks, poll
source "$here/common.sh"     # the leftover_* searches
die() { say "FATAL: $*"; exit 2; }

[[ $(readlink /proc/self/ns/net) != $(readlink /proc/1/ns/net) ]] || die "not in a private network namespace"

# ---------------------------------------------------------------- private mounts
# Our copies of / propagate among themselves (critest's rshared/rslave
# cases need a shared root) but never to the host. /run gets a tmpfs: the
# shims' sockets (/run/containerd/s), the runtimes' default roots and
# anything else a component hard-codes there stay here. libcni caches its
# results in /var/lib/cni, which run.sh created for us to cover.
mount --make-rprivate / && mount --make-rshared / || die "cannot make / shared in our mount namespace"
mount -t tmpfs -o mode=755 casco-cri-run /run || die "cannot mount a tmpfs on /run"
mount -t tmpfs -o mode=755 casco-cri-cni /var/lib/cni || die "cannot mount a tmpfs on /var/lib/cni"
ip link set lo up || die "cannot bring up lo"

mkdir -p "$D"/{root,state,cni/net.d,cni/ipam,nri/plugins,nri/conf.d,logs,results,pods}
SOCK=$D/containerd.sock
CTR=(ctr --address "$SOCK" -n k8s.io)
printf 'runtime-endpoint: unix://%s\nimage-endpoint: unix://%s\ntimeout: %s\n' "$SOCK" "$SOCK" "$TMO" >"$D/crictl.yaml"
CRICTL=(crictl --config "$D/crictl.yaml")

# ---------------------------------------------------------------- runtime wrappers
# <handler>: logs argv and exit code to DIR/rt/<handler>.calls, keeps the
# config.json of every bundle it is given in DIR/rt/<handler>.bundles, then
# runs the runtime; the ids given to `create` tell the leftover checks
# what to look for.
for h in "${HANDLERS[@]}"; do
	mkdir -p "$D/rt/$h.bundles"
	cat >"$D/rt/$h" <<EOF
#!/bin/bash
printf '%s argv:' "\$(date +%T.%N)" >>'$D/rt/$h.calls'; printf ' %q' "\$@" >>'$D/rt/$h.calls'; echo >>'$D/rt/$h.calls'
for ((i = 1; i < \$#; i++)); do
	j=\$((i + 1))
	[[ \${!i} == --bundle ]] && cp "\${!j}/config.json" '$D/rt/$h.bundles/'"\$(basename "\${!j}").json" 2>/dev/null
done
'${HBIN[$h]}' "\$@"
rc=\$?
echo "  rc=\$rc" >>'$D/rt/$h.calls'
exit \$rc
EOF
	chmod +x "$D/rt/$h"
done

# ---------------------------------------------------------------- configuration
# the host forbids negative oom_score_adj (no CAP_SYS_RESOURCE): containerd
# must not ask for the sandbox's -998 then
RESTRICT_OOM=false
sh -c 'echo -1 >/proc/self/oom_score_adj' 2>/dev/null || RESTRICT_OOM=true

version=$(containerd --version | awk '{print $3}')
major=${version#v}; major=${major%%.*}

cat >"$D/cni/net.d/10-casco-cri.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "casco-cri",
  "plugins": [
    {"type": "bridge", "bridge": "cri0", "isGateway": false, "ipMasq": false,
     "ipam": {"type": "host-local", "dataDir": "$D/cni/ipam", "ranges": [[{"subnet": "10.99.0.0/16"}]]}},
    {"type": "loopback"}
  ]
}
EOF

runtimes_v2() { # version 2 config (containerd 1.x)
	local h
	for h in "${HANDLERS[@]}"; do
		cat <<EOF
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.$h]
  runtime_type = "io.containerd.runc.v2"
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.$h.options]
  BinaryName = "$D/rt/$h"
  Root = "$D/rt/$h.root"
EOF
	done
}
runtimes_v3() {
	local h
	for h in "${HANDLERS[@]}"; do
		cat <<EOF
[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.$h]
  runtime_type = 'io.containerd.runc.v2'
[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.$h.options]
  BinaryName = '$D/rt/$h'
  Root = '$D/rt/$h.root'
EOF
	done
}
common_head() {
	cat <<EOF
root = "$D/root"
state = "$D/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]
[grpc]
  address = "$SOCK"
[ttrpc]
  address = "$SOCK.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
EOF
}
if ((major >= 2)); then
	{
		echo "version = 3"
		common_head
		cat <<EOF
[plugins.'io.containerd.internal.v1.opt']
  path = '$D/opt'
[plugins.'io.containerd.nri.v1.nri']
  disable = false
  socket_path = '$D/nri/nri.sock'
  plugin_path = '$D/nri/plugins'
  plugin_config_path = '$D/nri/conf.d'
[plugins.'io.containerd.cri.v1.images']
  snapshotter = 'overlayfs'
[plugins.'io.containerd.cri.v1.images'.pinned_images]
  sandbox = 'localhost/casco-cri/pause:1'
[plugins.'io.containerd.cri.v1.runtime']
  restrict_oom_score_adj = $RESTRICT_OOM
  netns_mounts_under_state_dir = true
  cdi_spec_dirs = ['$D/cdi']
  enable_criu = false
[plugins.'io.containerd.cri.v1.runtime'.containerd]
  default_runtime_name = '${HANDLERS[0]}'
[plugins.'io.containerd.cri.v1.runtime'.cni]
  bin_dirs = ['/usr/lib/cni']
  conf_dir = '$D/cni/net.d'
[plugins.'io.containerd.grpc.v1.cri']
  stream_server_address = '127.0.0.1'
  stream_server_port = '0'
EOF
		runtimes_v3
	} >"$D/config.toml"
	NRI_FLAG=(-nri-socket "$D/nri/nri.sock")
else
	{
		echo "version = 2"
		common_head
		cat <<EOF
[plugins."io.containerd.internal.v1.opt"]
  path = "$D/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "localhost/casco-cri/pause:1"
  restrict_oom_score_adj = $RESTRICT_OOM
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
[plugins."io.containerd.grpc.v1.cri".containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "${HANDLERS[0]}"
[plugins."io.containerd.grpc.v1.cri".cni]
  bin_dir = "/usr/lib/cni"
  conf_dir = "$D/cni/net.d"
EOF
		runtimes_v2
	} >"$D/config.toml"
	NRI_FLAG=()   # containerd 1.6 has no NRI: critest skips those cases for every handler
fi

# ---------------------------------------------------------------- containerd
CPID=
stop_containerd() {
	[[ -n $CPID ]] && kill -0 "$CPID" 2>/dev/null || return 0
	say "stopping containerd (pid $CPID)"
	kill -TERM "$CPID"
	local n
	for ((n = 0; n < 150; n++)); do kill -0 "$CPID" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$CPID" 2>/dev/null && { say "containerd did not stop in 15 s: SIGKILL"; kill -KILL "$CPID"; }
	wait "$CPID" 2>/dev/null
	CPID=
}
TORN=
teardown() {
	[[ -n $TORN ]] && return 0
	TORN=1
	# an interrupted critest: its process group (ginkgo and its nodes)
	if [[ -n ${CRITEST_PID:-} ]]; then
		kill -TERM -- "-$CRITEST_PID" 2>/dev/null
		poll 30 eval '! kill -0 -- "-$CRITEST_PID" 2>/dev/null'
		kill -KILL -- "-$CRITEST_PID" 2>/dev/null
	fi
	[[ -n ${KMSG_PID:-} ]] && kill "$KMSG_PID" 2>/dev/null
	# every pod the suite made goes through CRI first, then containerd stops
	[[ -n $CPID ]] && timeout 120 "${CRICTL[@]}" rmp -a -f >>"$D/logs/teardown.log" 2>&1
	stop_containerd
	source "$here/leftovers.sh"
	leftovers >"$D/results/leftovers" 2>&1
	if [[ -s $D/results/leftovers ]]; then
		say "LEFTOVERS:"; sed 's/^/    /' "$D/results/leftovers"
	fi
}
CRITEST_PID= KMSG_PID=
trap teardown EXIT
trap 'exit 143' TERM INT
containerd --config "$D/config.toml" --log-level info >"$D/logs/containerd.log" 2>&1 &
CPID=$!
echo "$CPID" >"$D/containerd.pid"
up=
for ((n = 0; n < 300; n++)); do
	"${CTR[@]}" version >/dev/null 2>&1 && "${CRICTL[@]}" info >/dev/null 2>&1 && { up=1; break; }
	kill -0 "$CPID" 2>/dev/null || break
	sleep 0.2
done
[[ -n $up ]] || { tail -n 30 "$D/logs/containerd.log"; die "containerd did not come up"; }
say "containerd $version up (pid $CPID), restrict_oom_score_adj=$RESTRICT_OOM"
"${CTR[@]}" images import "$IMAGES" >"$D/logs/import.log" 2>&1 || { cat "$D/logs/import.log"; die "ctr images import failed"; }
"${CRICTL[@]}" images >>"$D/logs/import.log" 2>&1

# ---------------------------------------------------------------- critest
# Skipped for every handler, each for its reason (ginkgo regexes on the
# spec's full text):
SKIPS=(
	'Image Manager'                 # pulls gcr.io/k8s-staging-cri-tools test images: needs a registry
	'Image Consistency'             # pulls from a registry
	'Image Identifier Consistency'  # pulls from two registries
	'Image Volume'                  # pulls the image it mounts from a registry
	'SupplementalGroupsPolicy'      # runs gcr.io/.../test-image-predefined-group (its own /etc/group): a registry
	'NRI'                           # pulls critest's busybox through CRI PullImage every time: a registry
	'port mapping'                  # host ports DNAT'ed to the pod by the portmap CNI plugin: a pod network
	'should support network'        # HTTP from the host to the pod's IP over the CNI bridge: a pod network
	'should support portforward \[' # checks the pod's IP over the CNI bridge first: a pod network
)
skip_re=$(IFS='|'; echo "${SKIPS[*]}")
run_critest() { # handler
	local h=$1 t0=$SECONDS
	mkdir -p "$D/results/$h.tmp"
	say "critest $h: -parallel $PARALLEL"
	# critest's parallel mode runs the ginkgo CLI; TMPDIR: its temp files
	# here. In a session of its own, in the background: a TERM to this
	# script is handled at once and the teardown ends critest's group.
	TMPDIR=$D/results/$h.tmp setsid timeout -k 10 "${CRI_CRITEST_TIMEOUT:-1500}" critest \
		-runtime-endpoint "unix://$SOCK" -image-endpoint "unix://$SOCK" \
		-runtime-handler "$h" "${NRI_FLAG[@]}" -parallel "$PARALLEL" \
		-ginkgo.skip "$skip_re" ${CRI_FOCUS:+-ginkgo.focus "$CRI_FOCUS"} \
		-ginkgo.json-report "$D/results/$h.critest.json" -ginkgo.no-color \
		>"$D/logs/critest.$h.log" 2>&1 &
	CRITEST_PID=$!
	# the kernel's word on which containers its OOM killer hit, read as
	# critest runs (the ring buffer may have dropped it by the end): run.sh
	# (oom_race) checks a missed OOMKilled reason against it
	dmesg --follow > >(grep --line-buffered -F 'oom-kill:' >"$D/results/$h.oom-kills") 2>/dev/null &
	KMSG_PID=$!
	wait "$CRITEST_PID"
	echo $? >"$D/results/$h.critest.rc"
	kill "$KMSG_PID" 2>/dev/null
	KMSG_PID=
	CRITEST_PID=
	say "critest $h done in $((SECONDS - t0))s (rc $(cat "$D/results/$h.critest.rc"))"
}

for h in "${HANDLERS[@]}"; do
	if [[ ${CRI_CRITEST:-1} == 1 ]]; then run_critest "$h"; fi
	run_checks "$h"
done

teardown
exit 0
