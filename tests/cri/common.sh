# common.sh: what the CRI suite (tests/cri) and the kubelet suite
# (tests/kubelet) share, sourced by their run.sh and suite.sh: the Debian
# packages they need, the runtimes under test copied into the run's temp
# dir, the clean-up at exit, and the search for what a run left behind.

# need_packages SUITE PKG...: install the packages that are missing
need_packages() {
	local suite=$1 p missing=()
	shift
	for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
	((${#missing[@]})) || return 0
	echo "$suite: installing ${missing[*]}"
	{ apt-get -o DPkg::Lock::Timeout=900 update -q && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -q --no-install-recommends "${missing[@]}"; } >/dev/null ||
		die "apt-get install ${missing[*]} failed"
}

# take_runtimes SUITE RUNC CASCO: the run's temp dir T (/tmp/casco-SUITE.*)
# with copies of both runtimes in T/bin: a rebuild during the run does not
# change what is tested. A user-namespaced pod's root (a mapped host uid)
# walks down to its bundle, as through containerd's own 0711 /run/containerd.
take_runtimes() {
	runc_bin=$(readlink -f "$(command -v "$2")") || die "runc not found (make runc-ref builds the reference)"
	casco_bin=$(readlink -f "$3") || die "casco not found"
	[[ -x $runc_bin && -x $casco_bin ]] || die "runtimes must be executables: $runc_bin $casco_bin"
	T=$(mktemp -d "/tmp/casco-$1.XXXX") || die "mktemp failed"
	chmod 0711 "$T"
	mkdir -p "$T/bin" "$T/logs"
	cp "$runc_bin" "$T/bin/runc" && cp "$casco_bin" "$T/bin/casco" || die "cannot copy the runtimes"
}

# cleanup, the EXIT trap of run.sh: the suites under unshare (suite_pids)
# get TERM (unshare --fork ignores it and passes it on) and are waited
# for; /var/lib/cni goes if the run made it; T goes unless KEEP is 1.
MADE_VARLIBCNI=
suite_pids=()
cleanup() {
	local rc=$? p
	trap - EXIT INT TERM
	for p in "${suite_pids[@]}"; do pkill -TERM -P "$p" 2>/dev/null; done
	for p in "${suite_pids[@]}"; do wait "$p" 2>/dev/null; done
	[[ -n $MADE_VARLIBCNI ]] && rmdir /var/lib/cni 2>/dev/null
	if [[ $KEEP == 1 ]]; then
		echo "$SUITE: logs kept in $T"
	else
		rm -rf "$T" 2>/dev/null || echo "$SUITE: could not remove $T" >&2
	fi
	exit "$rc"
}

# What a run left behind, one line each, removed as it is found.

# leftover_processes PATTERN: the processes whose command line holds PATTERN (but us)
leftover_processes() {
	local p
	for p in $(pgrep -f -- "$1"); do
		[[ $p == $$ ]] && continue
		echo "process $p: $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | cut -c1-200)"
		kill -KILL "$p" 2>/dev/null
	done
}

# leftover_containers DIR: the containers of each handler (HANDLERS, HBIN)
# still in its state dir, DIR/rt/<handler>.root/k8s.io
leftover_containers() {
	local h id
	for h in "${HANDLERS[@]}"; do
		[[ -d $1/rt/$h.root/k8s.io ]] || continue
		for id in $("${HBIN[$h]}" --root "$1/rt/$h.root/k8s.io" list -q 2>/dev/null); do
			echo "$h container $id"
			timeout 20 "${HBIN[$h]}" --root "$1/rt/$h.root/k8s.io" delete --force "$id" >/dev/null 2>&1
		done
	done
}

# leftover_mounts DIR: the mounts below DIR, deepest first
leftover_mounts() {
	local m
	for m in $(findmnt -rn -o TARGET | grep -F "$1/" | sort -r); do
		echo "mount $m"
		umount -l "$m" 2>/dev/null
	done
}
