#!/bin/sh
# The engines suite (in the guest): podman with cgroup_manager=systemd and
# containerd (ctr + the runc v2 shim) with the systemd cgroup driver drive
# RUNTIME as they drive runc. Each case prints `--- PASS|FAIL: NAME`;
# what it checks is the kernel's (cgroup files) and systemd's
# (`systemctl show`) view, not the engine's.
# usage: guest-engines.sh casco|runc BINARY
rt=$1 bin=$2
T=$(mktemp -d /tmp/engines-$rt.XXXXXX)
rootfs=$T/rootfs
mkdir -p $rootfs/bin $rootfs/proc $rootfs/sys $rootfs/dev $rootfs/etc $rootfs/tmp
cp /job/busybox $rootfs/bin/busybox
for a in sh sleep cat echo true; do ln -s busybox $rootfs/bin/$a; done
echo 'root:x:0:0:root:/:/bin/sh' > $rootfs/etc/passwd
echo 'root:x:0:' > $rootfs/etc/group
fail=0
say() { echo "    $*"; }
check() { # check NAME: runs the function case_NAME
  if out=$(case_$1 2>&1); then
    echo "--- PASS: $1"
  else
    echo "--- FAIL: $1"; fail=1
  fi
  echo "$out" | sed 's/^/    /'
}
want() { # want WHAT GOT EXPECTED
  [ "$2" = "$3" ] && return 0
  echo "$1: got '$2', want '$3'"; return 1
}
poll() { # poll SECONDS CMD...: until CMD succeeds
  n=0; lim=$(($1 * 10)); shift
  until "$@" >/dev/null 2>&1; do n=$((n + 1)); [ $n -gt $lim ] && return 1; sleep 0.1; done
}
unit_gone() { systemctl show -p LoadState "$1" | grep -qx LoadState=not-found; }
cgroup_of() { sed -n 's/^0:://p' /proc/$1/cgroup; }

# ---------------------------------------------------------------- podman
P="podman --runtime $bin --cgroup-manager systemd --storage-driver vfs --root $T/storage --runroot $T/run --events-backend none"
case_podman_run() {
  out=$($P run --rm --network none --rootfs $rootfs sh -c 'echo hi; exit 3'); rc=$?
  want "exit code" $rc 3 && want output "$out" hi
}
case_podman_limits() {
  id=$($P run -d --network none --memory 64m --pids-limit 33 --cpus 0.5 --rootfs $rootfs sleep 1000) || return 1
  pid=$($P inspect --format '{{.State.Pid}}' $id)
  cg=$(cgroup_of $pid); unit=libpod-$id.scope
  want cgroup "$cg" /machine.slice/$unit || { $P rm -f -t 0 $id; return 1; }
  ok=0
  want memory.max "$(cat /sys/fs/cgroup$cg/memory.max)" 67108864 || ok=1
  want pids.max "$(cat /sys/fs/cgroup$cg/pids.max)" 33 || ok=1
  want cpu.max "$(cat /sys/fs/cgroup$cg/cpu.max)" "50000 100000" || ok=1
  want MemoryMax "$(systemctl show -p MemoryMax --value $unit)" 67108864 || ok=1
  want TasksMax "$(systemctl show -p TasksMax --value $unit)" 33 || ok=1
  want Delegate "$(systemctl show -p Delegate --value $unit)" yes || ok=1
  $P pause $id >/dev/null || ok=1
  grep -qx 'frozen 1' /sys/fs/cgroup$cg/cgroup.events || { echo "pause: not frozen"; ok=1; }
  $P unpause $id >/dev/null || ok=1
  grep -qx 'frozen 0' /sys/fs/cgroup$cg/cgroup.events || { echo "unpause: still frozen"; ok=1; }
  $P rm -f -t 0 $id >/dev/null || ok=1
  poll 60 unit_gone $unit || { echo "unit $unit left: $(systemctl show -p ActiveState $unit)"; ok=1; }
  [ ! -d /sys/fs/cgroup$cg ] || { echo "cgroup $cg left"; ok=1; }
  return $ok
}

# ---------------------------------------------------------------- containerd
A=$T/containerd.sock
C="ctr -a $A -n sdtest"
case_containerd_run() {
  $C run --rm --runc-binary $bin --runc-systemd-cgroup --cgroup system.slice:ctrtest:c1 --rootfs $rootfs c1 /bin/sh -c "exit 4"
  want "exit code" $? 4
}
case_containerd_limits() {
  $C run -d --runc-binary $bin --runc-systemd-cgroup --cgroup system.slice:ctrtest:c2 --memory-limit 67108864 \
    --rootfs $rootfs c2 /bin/sleep 1000 >/dev/null || return 1
  pid=$($C task ls | awk '$1 == "c2" { print $2 }')
  cg=$(cgroup_of $pid); unit=ctrtest-c2.scope
  ok=0
  want cgroup "$cg" /system.slice/$unit || ok=1
  want memory.max "$(cat /sys/fs/cgroup$cg/memory.max)" 67108864 || ok=1
  want MemoryMax "$(systemctl show -p MemoryMax --value $unit)" 67108864 || ok=1
  $C task pause c2 && grep -qx 'frozen 1' /sys/fs/cgroup$cg/cgroup.events || { echo "pause: not frozen"; ok=1; }
  $C task resume c2 || ok=1
  $C task kill -s KILL c2 || ok=1
  poll 60 sh -c "! $C task ls | grep -q '^c2 .*RUNNING'"
  $C task rm -f c2 >/dev/null; $C c rm c2 || ok=1
  poll 60 unit_gone $unit || { echo "unit $unit left: $(systemctl show -p ActiveState $unit)"; ok=1; }
  [ ! -d /sys/fs/cgroup$cg ] || { echo "cgroup $cg left"; ok=1; }
  return $ok
}

check podman_run
check podman_limits
containerd --address $A --root $T/ctrd-root --state $T/ctrd-state > $T/containerd.log 2>&1 &
CPID=$!
if poll 60 $C version; then
  check containerd_run
  check containerd_limits
else
  echo "--- FAIL: containerd_start"; tail -20 $T/containerd.log; fail=1
fi
kill $CPID; wait $CPID 2>/dev/null
rm -rf $T 2>/dev/null
exit $fail
