# What the suite's containerd left behind in its namespaces, sourced by
# suite.sh after containerd stopped (uses D, HANDLERS, HBIN, SOCK).
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
	local p h id ids m cg
	# shims (and anything else) started for our containerd
	for p in $(pgrep -f -- "$SOCK"); do
		[[ $p == $$ ]] && continue
		echo "LEFTOVER process $p: $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | cut -c1-200)"
		kill -KILL "$p" 2>/dev/null
	done
	# containers in the runtimes' state dirs
	for h in "${HANDLERS[@]}"; do
		[[ -d $D/rt/$h.root/k8s.io ]] || continue
		for id in $("${HBIN[$h]}" --root "$D/rt/$h.root/k8s.io" list -q 2>/dev/null); do
			echo "LEFTOVER $h container $id"
			timeout 20 "${HBIN[$h]}" --root "$D/rt/$h.root/k8s.io" delete --force "$id" >/dev/null 2>&1
		done
	done
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
	# mounts: rootfs overlays, network namespaces (nsfs under state/netns),
	# shm, volumes: anything below DIR, deepest first
	for m in $(findmnt -rn -o TARGET | grep -F "$D/" | sort -r); do
		echo "LEFTOVER mount $m"
		umount -l "$m" 2>/dev/null
	done
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
