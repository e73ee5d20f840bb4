# What the suite's containerd left behind in its namespaces, sourced by
# suite.sh after containerd stopped (uses D, HANDLERS, HBIN, SOCK, and
# common.sh's leftover_* searches).
# Prints one "LEFTOVER what" line per thing found, and removes it; the
# shared-memory segments critest's host-IPC cases make on purpose (in this
# private IPC namespace) are removed and counted in DIR/results/shm.

# the ids of every container and sandbox the runtimes were asked to create
created_ids() {
	local h
	for h in "${HANDLERS[@]}"; do
		[[ -f $D/rt/$h.calls ]] || continue
		awk '/ argv: / && / create / {print $NF}' "$D/rt/$h.calls"
	done | sort -u
}

leftovers() {
	local p ids cg
	# shims (and anything else) started for our containerd, containers
	# still in the runtimes' state dirs, mounts (rootfs overlays, network
	# namespaces' nsfs under state/netns, shm, volumes) below DIR
	{ leftover_processes "$SOCK"; leftover_containers "$D"; leftover_mounts "$D"; } | sed 's/^/LEFTOVER /'
	# processes still in a container's cgroup, and the cgroups themselves
	ids=$(created_ids)
	if [[ -n $ids ]]; then
		while read -r cg; do
			grep -qxF "$(basename "$cg")" <<<"$ids" || continue
			for p in $(cat "$cg/cgroup.procs" 2>/dev/null); do
				echo "LEFTOVER process $p in $cg"; kill -KILL "$p" 2>/dev/null
			done
			echo "LEFTOVER cgroup $cg"
			poll 10 rmdir "$cg" 2>/dev/null
		done < <(find /sys/fs/cgroup -mindepth 1 -maxdepth 4 -type d -regextype egrep -regex '.*/[0-9a-f]{64}' 2>/dev/null | sort -r)
	fi
	# shared memory segments: critest's host-IPC cases create them with
	# ipcmk on purpose and never remove them; anything else is a leftover
	local n=0 key shmid
	while read -r key shmid _; do
		[[ $shmid =~ ^[0-9]+$ ]] || continue
		ipcrm -m "$shmid" && ((n++))
	done < <(ipcs -m | tail -n +4)
	echo "$n" >"$D/results/shm"
	[[ -z $(ipcs -m | tail -n +4 | grep -E '^0x') ]] || echo "LEFTOVER shm segments that ipcrm could not remove"
}
