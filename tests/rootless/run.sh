#!/bin/bash
# tests/rootless/run.sh CASCO [RUNC]: an unprivileged user runs containers
# with casco and with runc, case by case. Each case checks what the kernel
# says (uid_map, setgroups, /proc/<pid>/status, mountinfo), not what the
# runtime prints. A case casco fails and runc passes fails the suite; a
# case both fail is reported (the machine cannot do it) and fails too,
# since nothing here needs more than an unprivileged user may do.
#
# Env: RL_RUN=REGEX runs only the cases whose name matches.
#
# Makes its own user (useradd, subuid/subgid ranges) and removes it, its
# home, its runtime dir and every state dir on exit.
set -u
casco=$(realpath "$1")
runc=${2:-/var/tmp/casco-runc/v1.5.3/runc} # the reference runc (make runc-ref)
here=$(cd "$(dirname "$0")" && pwd)
[ "$(id -u)" = 0 ] || { echo "rootless: run as root (it makes a user)"; exit 1; }
for t in useradd userdel setpriv unshare; do
	command -v $t >/dev/null || { echo "rootless: $t missing"; exit 1; }
done

user=casco-rl$$
useradd -m -s /bin/sh -K SUB_UID_COUNT=0 -K SUB_GID_COUNT=0 "$user" || exit 1
uid=$(id -u "$user"); gid=$(id -g "$user")
home=$(getent passwd "$user" | cut -d: -f6)
run=/tmp/casco-rl-run.$$
cleanup() {
	# the user's processes are the suite's containers: end them by pid
	for p in $(pgrep -u "$uid"); do kill -9 "$p" 2>/dev/null; done
	userdel -r "$user" 2>/dev/null
	groupdel "$user-g" 2>/dev/null
	sed -i "/^$user:/d" /etc/subuid /etc/subgid
	rm -rf "$run" "$run.out.runc" "$run.out.casco"
	for d in $opened; do chmod "${d#*:}" "${d%%:*}"; done
}
opened=
trap cleanup EXIT
# fuse-overlayfs and slirp4netns open /dev/fuse and /dev/net/tun as the
# user: Debian's udev makes both 0666; a machine without udev (a VM's
# static /dev) may have 0600. They get Debian's mode for the run and
# their own back at the end.
for d in /dev/fuse /dev/net/tun; do
	m=$(stat -c %a $d 2>/dev/null) || continue
	[ "$m" = 666 ] || { opened="$opened $d:$m"; chmod 666 $d; }
done
usermod --add-subuids 400000-465535 --add-subgids 400000-465535 "$user" || exit 1
# a supplementary group of the user's own, for --group-add keep-groups
groupadd "$user-g" && usermod -aG "$user-g" "$user" || exit 1
xgid=$(getent group "$user-g" | cut -d: -f3)
mkdir -m 700 "$run" && chown "$user:" "$run"
install -o "$user" -m 755 "$casco" "$home/casco"
"$here/../mkrootfs.sh" "$home/rootfs" >/dev/null || exit 1
chown -R "$user:" "$home/rootfs"

# as USER: a command run as the user, with the environment a login gives
as_user() {
	setpriv --reuid="$uid" --regid="$gid" --init-groups --reset-env \
		env HOME="$home" USER="$user" XDG_RUNTIME_DIR="$run" PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		CASCO="$home/casco" RUNC="$runc" UID_="$uid" GID_="$gid" XGID_="$xgid" MAPS="$maps" BADMAPS="${maps/400000,/900000,}" sh -c "$1"
}

fails=0
# several ranges: the caller's own id as 0, the suite's subordinate range above
maps='m=lambda h: [{"containerID":0,"hostID":h,"size":1},{"containerID":1,"hostID":400000,"size":65536}]; c["linux"]["uidMappings"]=m(int(os.environ["UID_"])); c["linux"]["gidMappings"]=m(int(os.environ["GID_"]))'
# case NAME SCRIPT: SCRIPT runs as the user with $RT set to each runtime
# (and $rt its name); it exits 0 when the kernel agrees.
case_() {
	local name=$1 script=$2 r_runc r_casco
	# RL_RUN=REGEX runs only the cases whose name matches
	if [ -n "${RL_RUN:-}" ] && ! echo "$name" | grep -qE "$RL_RUN"; then return; fi
	as_user "RT=\$RUNC rt=runc; cd; $script" >"$run.out.runc" 2>&1; r_runc=$?
	as_user "RT=\$CASCO rt=casco; cd; $script" >"$run.out.casco" 2>&1; r_casco=$?
	if [ $r_casco = 0 ]; then
		echo "ok    $name (runc: $([ $r_runc = 0 ] && echo ok || echo FAIL))"
	else
		fails=$((fails + 1))
		echo "FAIL  $name (runc: $([ $r_runc = 0 ] && echo ok || echo fails too))"
		sed 's/^/      casco: /' "$run.out.casco"
		[ $r_runc = 0 ] || sed 's/^/      runc:  /' "$run.out.runc"
	fi
}

# bundle NAME ARGS-JSON [JQ-FILTER]: a bundle from `$RT spec --rootless`
# running ARGS, changed by an optional python expression on c (the config)
bundle='bundle() {
	rm -rf "$1"; mkdir "$1" && cd "$1" && $RT spec --rootless || return 1
	python3 -c "import json,sys,os; c=json.load(open(\"config.json\")); c[\"root\"][\"path\"]=os.path.abspath(\"../rootfs\"); c[\"process\"][\"terminal\"]=False; c[\"process\"][\"args\"]=json.loads(sys.argv[1]); exec(sys.argv[2]); json.dump(c,open(\"config.json\",\"w\"))" "$2" "${3:-pass}"
}
'

# 1. spec --rootless + run unchanged: uid 0 inside is the user outside,
# setgroups denied (no helper), the default root is $XDG_RUNTIME_DIR/<rt>
case_ "spec --rootless, run: uid_map, gid_map, setgroups, default root" "$bundle"'
	bundle b1 "[\"sh\",\"-c\",\"cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups; id -u\"]" || exit 1
	out=$($RT run $rt-1-$$) || exit 1
	echo "$out"
	set -- $out
	[ "$1 $2 $3" = "0 $UID_ 1" ] && [ "$4 $5 $6" = "0 $GID_ 1" ] && [ "$7" = deny ] && [ "$8" = 0 ] || exit 1
	[ -d "$XDG_RUNTIME_DIR/$rt" ] || { echo "no state root $XDG_RUNTIME_DIR/$rt"; exit 1; }'

# 2. create/start/state/kill/delete: the init, seen from the host, runs as
# the user; no cgroup of its own on a tree the user may not write
case_ "lifecycle: init runs as the user on the host, exec, kill, delete" "$bundle"'
	bundle b2 "[\"sleep\",\"1000\"]" || exit 1
	id=$rt-2-$$
	$RT create --pid-file pid $id || exit 1
	pid=$(cat pid)
	grep -q "^Uid:[[:space:]]*$UID_[[:space:]]" /proc/$pid/status || { grep Uid /proc/$pid/status; exit 1; }
	grep -q "^Gid:[[:space:]]*$GID_[[:space:]]" /proc/$pid/status || { grep Gid /proc/$pid/status; exit 1; }
	[ "$(readlink /proc/$pid/ns/user)" != "$(readlink /proc/self/ns/user)" ] || { echo "no user namespace"; exit 1; }
	$RT start $id && $RT state $id | grep -q "\"status\": \"running\"" || exit 1
	set -- $($RT exec $id cat /proc/self/uid_map) || exit 1
	[ "$1 $2 $3" = "0 $UID_ 1" ] || { echo "exec: uid_map $*"; exit 1; }
	# setgroups is denied in a single-id namespace: an exec asking for
	# supplementary groups is refused, not run without them
	if out=$($RT exec -g 5 $id true 2>&1); then echo "exec -g 5 ran"; exit 1; fi
	echo "exec -g 5: $out"
	[ "$rt" = runc ] || echo "$out" | grep -q "additionalGids.*setgroups is denied" || exit 1
	$RT kill $id KILL || exit 1
	while [ -d /proc/$pid ] && ! grep -q "^State:.*Z" /proc/$pid/status 2>/dev/null; do sleep 0.05; done
	$RT delete $id || exit 1
	! $RT state $id 2>/dev/null'

# 3. a limit with no cgroup to hold it: one error naming it, nothing left
case_ "a memory limit without a writable cgroup tree is refused, nothing left" "$bundle"'
	if [ -w /sys/fs/cgroup/memory ] || [ -w /sys/fs/cgroup/cgroup.procs ]; then echo "cgroup tree writable: case does not apply"; exit 0; fi
	bundle b3 "[\"true\"]" "c[\"linux\"][\"resources\"]={\"memory\":{\"limit\":67108864}}" || exit 1
	if out=$($RT run $rt-3-$$ 2>&1); then echo "ran without its memory limit"; exit 1; fi
	echo "$out"
	echo "$out" | grep -qi "memory" || exit 1
	! $RT state $rt-3-$$ 2>/dev/null'

# 3b. a linux.cgroupsPath the user cannot create is refused, limits or
# not: the field names the cgroup, so the container must get it or fail
# (runc: "rootless needs no limits + no cgrouppath")
case_ "a linux.cgroupsPath on a tree not writable is refused, nothing left" "$bundle"'
	if [ -w /sys/fs/cgroup/memory ] || [ -w /sys/fs/cgroup/cgroup.procs ]; then echo "cgroup tree writable: case does not apply"; exit 0; fi
	bundle b3b "[\"true\"]" "c[\"linux\"][\"cgroupsPath\"]=\"/casco-rl-$rt\"" || exit 1
	if out=$($RT run $rt-3b-$$ 2>&1); then echo "ran outside its linux.cgroupsPath"; exit 1; fi
	echo "$out"
	[ "$rt" = runc ] || echo "$out" | grep -q "linux.cgroupsPath names this cgroup" || exit 1
	! $RT state $rt-3b-$$ 2>/dev/null'

# 4. /dev: devices are binds of the host nodes (no mknod), /dev/pts
# ptmx works and a pty gets the tty-less gid the config asks for (none)
case_ "devices bound from the host, /dev/pts usable" "$bundle"'
	bundle b4 "[\"sh\",\"-c\",\"stat -c %t,%T /dev/null /dev/zero /dev/urandom; grep -E \\\" /dev/(null|pts) \\\" /proc/self/mountinfo; echo hi > /dev/null\"]" || exit 1
	out=$($RT run $rt-4-$$) || exit 1
	echo "$out"
	echo "$out" | grep -q "^1,3$" && echo "$out" | grep -q "^1,5$" && echo "$out" | grep -q "^1,9$" || exit 1
	echo "$out" | grep -q " /dev/null .* - devtmpfs " || exit 1
	echo "$out" | grep -q " /dev/pts .* - devpts " || exit 1'

# 5. /sys and read-only paths: the locked flags of the host mount stay
case_ "/sys bound read-only, locked flags kept" "$bundle"'
	bundle b5 "[\"sh\",\"-c\",\"grep -E \\\" /(sys|proc/sys) \\\" /proc/self/mountinfo; ! touch /sys/x 2>/dev/null\"]" || exit 1
	out=$($RT run $rt-5-$$) || exit 1
	echo "$out"
	echo "$out" | grep " /sys " | grep -q "ro,nosuid,nodev,noexec" || exit 1'

# 6. supplementary groups cannot be set with setgroups denied (a single-id
# mapping): refused, as runc (1.1 to 1.5) refuses them ("cannot set any additional
# groups in a rootless container"), never run without them
case_ "single-id mapping: additionalGids refused, not dropped" "$bundle"'
	bundle b6 "[\"id\",\"-G\"]" "c[\"process\"][\"user\"][\"additionalGids\"]=[5]" || exit 1
	if out=$($RT run $rt-6-$$ 2>&1); then echo "ran: $out"; exit 1; fi
	echo "$out"
	! $RT state $rt-6-$$ 2>/dev/null || exit 1
	[ "$rt" = runc ] || echo "$out" | grep -q "additionalGids.*setgroups is denied" || exit 1'

# 7. casco run from inside a user namespace as its root (rootless
# podman's situation): uid 0 there, no privilege over the host
case_ "inside unshare --user --map-root-user" "$bundle"'
	bundle b7 "[\"sh\",\"-c\",\"cat /proc/self/uid_map; id -u\"]" "c[\"linux\"][\"uidMappings\"]=[{\"containerID\":0,\"hostID\":0,\"size\":1}]; c[\"linux\"][\"gidMappings\"]=[{\"containerID\":0,\"hostID\":0,\"size\":1}]" || exit 1
	out=$(unshare --user --map-root-user --mount sh -c "mount -t tmpfs tmpfs /run 2>/dev/null; $RT --root $XDG_RUNTIME_DIR/$rt-ns run $rt-7-$$") || { echo "$out"; exit 1; }
	echo "$out"
	set -- $out
	[ "$1 $2 $3" = "0 0 1" ] && [ "$4" = 0 ] || exit 1'

# 8. several ranges: newuidmap/newgidmap map the subordinate ids of
# /etc/subuid and /etc/subgid; a file chowned to 1000 inside is 400999
# outside
case_ "several ranges through newuidmap/newgidmap" "$bundle"'
	mkdir -p ~/b8tmp && rm -f ~/b8tmp/f ~/b8tmp/done
	bundle b8 "[\"sh\",\"-c\",\"touch /tmp/f; chown 1000:1000 /tmp/f; touch /tmp/done; sleep 1000\"]" "$MAPS; c[\"process\"][\"capabilities\"][\"bounding\"]+=[\"CAP_CHOWN\"]; c[\"process\"][\"capabilities\"][\"effective\"]+=[\"CAP_CHOWN\"]; c[\"process\"][\"capabilities\"][\"permitted\"]+=[\"CAP_CHOWN\"]; c[\"mounts\"].append({\"destination\":\"/tmp\",\"type\":\"bind\",\"source\":os.environ[\"HOME\"]+\"/b8tmp\",\"options\":[\"rbind\"]})" || exit 1
	$RT create --pid-file pid $rt-8-$$ || exit 1
	pid=$(cat pid)
	set -- $(cat /proc/$pid/uid_map /proc/$pid/gid_map)
	$RT start $rt-8-$$ || exit 1
	while [ ! -e ~/b8tmp/done ] && [ -d /proc/$pid ] && ! grep -q "^State:.*Z" /proc/$pid/status 2>/dev/null; do sleep 0.05; done
	own=$(stat -c %u:%g ~/b8tmp/f)
	$RT kill $rt-8-$$ KILL; while [ -d /proc/$pid ] && ! grep -q "^State:.*Z" /proc/$pid/status 2>/dev/null; do sleep 0.05; done
	$RT delete -f $rt-8-$$
	echo "maps: $* file: $own"
	[ "$*" = "0 $UID_ 1 1 400000 65536 0 $GID_ 1 1 400000 65536" ] && [ "$own" = 400999:400999 ] || exit 1'

# 8b. several ranges: newgidmap leaves setgroups allowed, so
# process.user.additionalGids are set, in the init and in an exec (the
# kernel's Groups line, host ids: gid 5 inside is 400004 outside); a gid
# the mappings leave out is refused. runc (1.1 to 1.5) refuses additionalGids for
# any non-root caller ("cannot set any additional groups in a rootless
# container"): casco sets them where the kernel allows, as runc does under
# rootless podman, so runc fails this case.
case_ "several ranges: additionalGids set (init, exec); an unmapped one refused" "$bundle"'
	bundle b8b "[\"sleep\",\"1000\"]" "$MAPS; c[\"process\"][\"user\"][\"additionalGids\"]=[5,100]" || exit 1
	id=$rt-8b-$$
	$RT create --pid-file pid $id || exit 1
	trap "$RT delete -f $id" EXIT
	pid=$(cat pid)
	$RT start $id || exit 1
	g=$(grep "^Groups:" /proc/$pid/status); echo "init $g"
	[ "$(echo $g)" = "Groups: 400004 400099" ] || exit 1
	[ "$(cat /proc/$pid/setgroups)" = allow ] || exit 1
	out=$($RT exec -g 7 $id sh -c "grep ^Groups: /proc/self/status") || exit 1
	echo "exec -g 7: $out"
	[ "$(echo $out)" = "Groups: 7" ] || exit 1
	bundle ../b8c "[\"true\"]" "$MAPS; c[\"process\"][\"user\"][\"additionalGids\"]=[70000]" || exit 1
	if out=$($RT run $rt-8c-$$ 2>&1); then echo "ran with unmapped gid 70000"; exit 1; fi
	echo "$out"; echo "$out" | grep -q "gid 70000 is not mapped" || exit 1'

# 9. a range /etc/subuid does not grant: one error naming the helper
case_ "a range not in /etc/subuid: the helper's refusal, nothing left" "$bundle"'
	bundle b9 "[\"true\"]" "$BADMAPS" || exit 1
	if out=$($RT run $rt-9-$$ 2>&1); then echo "ran with an ungranted range"; exit 1; fi
	echo "$out"
	[ "$rt" = runc ] || echo "$out" | grep -q "newuidmap.*not allowed" || exit 1
	! $RT state $rt-9-$$ 2>/dev/null'

# 10. a config asking for a new sysfs without its own network namespace
# (refused by the kernel in a user namespace) gets the host's /sys bound,
# read-only with its locked flags; linux.devices are binds of host nodes
case_ "sysfs refused: /sys bound instead; linux.devices bound, not mknod" "$bundle"'
	bundle b10 "[\"sh\",\"-c\",\"grep -E \\\" /(sys|dev/fuse) \\\" /proc/self/mountinfo; stat -c %t,%T /dev/fuse\"]" "c[\"mounts\"]=[m if m[\"destination\"]!=\"/sys\" else {\"destination\":\"/sys\",\"type\":\"sysfs\",\"source\":\"sysfs\",\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"ro\"]} for m in c[\"mounts\"]]; c[\"linux\"][\"devices\"]=[{\"path\":\"/dev/fuse\",\"type\":\"c\",\"major\":10,\"minor\":229}]" || exit 1
	out=$($RT run $rt-10-$$ 2>&1) || { echo "$out"; exit 1; }
	echo "$out"
	echo "$out" | grep " /sys " | grep -q "ro,nosuid,nodev,noexec.* - sysfs " || exit 1
	echo "$out" | grep -q " /dev/fuse .* - devtmpfs " && echo "$out" | grep -q "^a,e5$" || exit 1'

# 11. no cgroup of its own (the tree is not writable): the container runs
# in its creator's cgroups; ps, pause and kill --all have nothing to work
# on and fail, as runc's do; events --stats reports zeros (runc prints an
# all-zero stats event) while a watch fails (runc: no memory cgroup)
case_ "no cgroup: ps, pause, kill --all, events refused; events --stats zero" "$bundle"'
	if [ -w /sys/fs/cgroup/memory ] || [ -w /sys/fs/cgroup/cgroup.procs ]; then echo "cgroup tree writable: case does not apply"; exit 0; fi
	bundle b12 "[\"sleep\",\"1000\"]" || exit 1
	id=$rt-11-$$
	$RT run -d --pid-file pid $id || exit 1
	pid=$(cat pid)
	trap "$RT kill $id KILL; $RT delete -f $id" EXIT
	[ "$(cat /proc/$pid/cgroup)" = "$(cat /proc/self/cgroup)" ] || { echo "not in its creator'"'"'s cgroups:"; cat /proc/$pid/cgroup; exit 1; }
	if out=$($RT ps $id 2>&1); then echo "ps listed: $out"; exit 1; fi; echo "ps: $out"
	if out=$($RT pause $id 2>&1); then echo "paused without a freezer"; exit 1; fi; echo "pause: $out"
	# the refused pause left the init sleeping, not frozen: the kernel says
	# S once sleep has reached its nanosleep (run -d returns before that,
	# and a loaded machine may show it R for a while), so wait for S
	n=0
	until [ "$(sed "s/.*) //" /proc/$pid/stat | cut -d" " -f1)" = S ]; do
		n=$((n + 1)); [ $n -lt 200 ] || { echo "init not sleeping after 10s:"; grep State /proc/$pid/status; exit 1; }
		sleep 0.05
	done
	$RT state $id | grep -q "\"status\": \"running\"" || exit 1
	if out=$($RT kill --all $id TERM 2>&1); then echo "kill --all signalled"; exit 1; fi; echo "kill --all: $out"
	[ -d /proc/$pid ] && ! grep -q "^State:.*Z" /proc/$pid/status || { echo "init gone"; exit 1; }
	out=$($RT events --stats $id) || exit 1
	echo "$out" | grep -q "^{\"type\":\"stats\",\"id\":\"$id\"" || { echo "events --stats: $out"; exit 1; }
	out=$(timeout 10 $RT events --interval 1s $id 2>&1); r=$?
	[ $r != 0 ] && [ $r != 124 ] || { echo "events watched (exit $r): $out"; exit 1; }; echo "events: $out"
	[ "$rt" = runc ] && exit 0
	# casco says why, each time
	[ $($RT ps $id 2>&1 | grep -c "no cgroup of its own") = 1 ] && [ $($RT pause $id 2>&1 | grep -c "no cgroup of its own") = 1 ] || exit 1'

# 12. rootless podman (vfs storage, no network): podman runs the runtime
# from inside its own user namespace, as uid 0 there
if command -v podman >/dev/null; then
	tar -C "$home/rootfs" -cf "$home/rootfs.tar" . && chown "$user:" "$home/rootfs.tar"
	case_ "podman --runtime, vfs, --network none: run, --group-add, exec, stop, rm" '
	pm="podman --storage-driver vfs --runtime $RT"
	$pm image exists localhost/rl-bb || $pm import rootfs.tar localhost/rl-bb >/dev/null || exit 1
	out=$($pm run --rm --network none localhost/rl-bb cat /proc/self/uid_map) || exit 1
	echo "$out"
	set -- $out
	[ "$1 $2 $3 $4 $5 $6" = "0 $UID_ 1 1 400000 65536" ] || exit 1
	# podman maps the subordinate range with newgidmap: setgroups is
	# allowed in its namespace, and --group-add reaches the kernel
	g=$($pm run --rm --network none --group-add 5 localhost/rl-bb grep ^Groups: /proc/self/status) || exit 1
	echo "--group-add 5: $g"
	[ "$(echo $g)" = "Groups: 5" ] || exit 1
	$pm run -d --name $rt-12 --network none localhost/rl-bb sleep 1000 >/dev/null || exit 1
	[ "$($pm exec $rt-12 id -u)" = 0 ] || exit 1
	$pm stop -t 1 $rt-12 >/dev/null && $pm rm $rt-12 >/dev/null || exit 1'

	# 12b. --group-add keep-groups: podman sends run.oci.keep_original_groups
	# and the process keeps the user's own supplementary groups, which no
	# setgroups in the container's namespace could give it (the host's gid
	# is not mapped there). The kernel's view from the host: the init's
	# Groups hold the user's group with it, not without it. runc ignores
	# the annotation: the group is gone, so it fails this case.
	case_ "podman --runtime, --group-add keep-groups: the user groups stay" '
	pm="podman --storage-driver vfs --runtime $RT"
	$pm image exists localhost/rl-bb || $pm import rootfs.tar localhost/rl-bb >/dev/null || exit 1
	for how in keep-groups none; do
		add=; [ $how = keep-groups ] && add="--group-add keep-groups"
		$pm run -d --name $rt-12b --network none $add localhost/rl-bb sleep 1000 >/dev/null || exit 1
		pid=$($pm inspect -f "{{.State.Pid}}" $rt-12b)
		g=$(grep ^Groups: /proc/$pid/status)
		# exec joins the container'"'"'s user namespace by path: the group goes
		# with it too, shown inside as the overflow gid (unmapped there)
		e=$($pm exec $rt-12b grep ^Groups: /proc/self/status)
		a=$($pm inspect -f "{{.Config.Annotations}}" $rt-12b | grep -o "run.oci.keep_original_groups:[^ ]*")
		# gone before any check can end the case
		$pm rm -f -t 0 $rt-12b >/dev/null
		echo "$how: init $pid from the host: $g ($a); exec, inside: $e"
		if [ $how = keep-groups ]; then
			echo " $g " | grep -q "[[:space:]]$XGID_[[:space:]]" && echo " $e " | grep -q "[[:space:]]65534[[:space:]]" || exit 1
		else
			! echo " $g " | grep -q "[[:space:]]$XGID_[[:space:]]" && [ "$(echo $e)" = "Groups:" ] || exit 1
		fi
	done'

	# 13. rootless podman with fuse-overlayfs (the overlay driver through
	# its mount_program, in its own store) and slirp4netns: the root is a
	# fuse-overlayfs mount, the container has slirp's tap0 with its
	# default route via 10.0.2.2 (read from /proc; nothing is sent: IPv6
	# off, no host loopback, no command that talks); podman kill ends the
	# init (the kernel has the pid gone, podman reads 137)
	if command -v fuse-overlayfs >/dev/null && command -v slirp4netns >/dev/null; then
	case_ "podman --runtime, fuse-overlayfs, slirp4netns: run, kill, rm" '
	pm="podman --root $HOME/store-fuse --runroot $XDG_RUNTIME_DIR/store-fuse --storage-driver overlay --storage-opt overlay.mount_program=/usr/bin/fuse-overlayfs --runtime $RT"
	net=slirp4netns:enable_ipv6=false,allow_host_loopback=false
	$pm image exists localhost/rl-bb || $pm import rootfs.tar localhost/rl-bb >/dev/null || exit 1
	out=$($pm run --rm --network $net localhost/rl-bb sh -c "grep \" / / \" /proc/self/mountinfo; grep tap0 /proc/net/route") || { echo "$out"; exit 1; }
	echo "$out"
	echo "$out" | grep -q " / / .* - fuse.fuse-overlayfs " || exit 1
	echo "$out" | grep -qE "^tap0[[:space:]]+00000000[[:space:]]+0202000A[[:space:]]" || exit 1
	$pm run -d --name $rt-13 --network $net localhost/rl-bb sleep 1000 >/dev/null || exit 1
	pid=$($pm inspect -f "{{.State.Pid}}" $rt-13)
	[ -n "$pid" ] && [ "$pid" != 0 ] && [ -d /proc/$pid ] || { echo "no init pid: $pid"; exit 1; }
	$pm kill $rt-13 >/dev/null || exit 1
	code=$($pm wait $rt-13) || exit 1
	echo "podman wait: $code; init $pid: $(grep ^State: /proc/$pid/status 2>/dev/null || echo gone)"
	[ "$code" = 137 ] && ! [ -d /proc/$pid ] || exit 1
	$pm rm $rt-13 >/dev/null || exit 1'
	else
		echo "skip  rootless podman, fuse-overlayfs and slirp4netns: not installed (make rootless installs them)"
	fi
else
	echo "skip  rootless podman: podman is not installed"
fi

echo "rootless: $fails failing case(s)"
[ $fails = 0 ]
