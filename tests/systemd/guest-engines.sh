#!/bin/sh
# The engines suite (in the guest): podman with cgroup_manager=systemd and
# containerd (ctr + the runc v2 shim) with the systemd cgroup driver drive
# RUNTIME as they drive runc. Each case prints `--- PASS|FAIL: NAME`;
# what it checks is the kernel's (cgroup files, /proc) and systemd's
# (`systemctl show`) view, not the engine's. The checkpoint cases drive
# CRIU (Debian's 3.17, which works on this 6.1 kernel and not on the
# 6.13+ hosts) through podman and containerd.
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
  echo "$1" | grep -Eq "${ENGINES_CASES:-.}" || return 0
  t0=$(date +%s)
  if out=$(case_$1 2>&1); then
    echo "--- PASS: $1 ($(($(date +%s) - t0))s)"
  else
    echo "--- FAIL: $1 ($(($(date +%s) - t0))s)"; fail=1
    case $1 in *checkpoint*) out="$out
$(criu_logs)" ;; esac
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

# The busybox rootfs as an image, for the checkpoint cases (the engines
# record an image's name in a checkpoint and restore onto it): a plain tar
# for `podman import` and an OCI layout for `ctr images import`, made here,
# no registry.
IMG=localhost/busybox:sdtest
mkimage() {
  tar --numeric-owner -C $rootfs -cf $T/busybox.tar . || return 1
  o=$T/oci; mkdir -p $o/blobs/sha256
  diffid=$(sha256sum < $T/busybox.tar | cut -d' ' -f1); lsize=$(stat -c %s $T/busybox.tar)
  cp $T/busybox.tar $o/blobs/sha256/$diffid
  cfg='{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/bin"],"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":["sha256:'$diffid'"]}}'
  cdig=$(printf '%s' "$cfg" | sha256sum | cut -d' ' -f1); printf '%s' "$cfg" > $o/blobs/sha256/$cdig
  man='{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:'$cdig'","size":'${#cfg}'},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:'$diffid'","size":'$lsize'}]}'
  mdig=$(printf '%s' "$man" | sha256sum | cut -d' ' -f1); printf '%s' "$man" > $o/blobs/sha256/$mdig
  printf '%s' '{"imageLayoutVersion":"1.0.0"}' > $o/oci-layout
  printf '%s' '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:'$mdig'","size":'${#man}',"annotations":{"io.containerd.image.name":"'$IMG'","org.opencontainers.image.ref.name":"sdtest"}}]}' > $o/index.json
  tar -C $o -cf $T/busybox-oci.tar .
}

# ---------------------------------------------------------------- checkpoint/restore helpers
# criu_logs: the error lines of the CRIU logs the engines left (why a case failed)
criu_logs() {
  find $T /tmp /run -xdev \( -name dump.log -o -name restore.log \) -newer $T/busybox.tar 2>/dev/null |
    while read -r f; do echo "$f:"; grep -E 'Error|Warn' "$f" | tail -n 8; done
}
# The counter appends to a log on a bind mount from here: "start" once,
# then 1, 2, 3, ... A restored counter goes on from the value it had at the
# dump; a restarted one would write "start" again.
COUNT='echo start >> /cnt/log; i=0; while :; do i=$((i+1)); echo $i >> /cnt/log; sleep 0.1; done'
count_at_least() { [ "$(grep -c . $1)" -gt "$2" ]; }  # FILE LINES
last_of() { tail -n1 $1; }
# restored_view PID UNIT MEMMAX PARENT-COMM: the kernel's view of a restored
# container's init: pid 1 of its own pid namespace, neither stopped nor a
# zombie, child of the engine's monitor, in the unit's cgroup with the
# config's memory limit, the unit active in systemd
restored_view() {
  ok=0
  want "NSpid (host pid, pid inside)" "$(awk '$1 == "NSpid:" { print $3 }' /proc/$1/status)" 1 || ok=1
  st=$(sed 's/.*) //' /proc/$1/stat | cut -d' ' -f1)
  case $st in R|S) ;; *) echo "state: $st, want R or S"; ok=1 ;; esac
  pp=$(sed 's/.*) //' /proc/$1/stat | cut -d' ' -f2)
  want "parent's name" "$(cat /proc/$pp/comm)" "$4" || ok=1
  cg=$(cgroup_of $1)
  want cgroup "$cg" "$(systemctl show -p ControlGroup --value $2)" || ok=1
  want "cgroup of the unit" "${cg##*/}" $2 || ok=1
  want memory.max "$(cat /sys/fs/cgroup$cg/memory.max)" $3 || ok=1
  want ActiveState "$(systemctl show -p ActiveState --value $2)" active || ok=1
  return $ok
}
# counted_on LOG BEFORE LAST-OF-THE-OLD LINES-OF-THE-OLD: the log after a
# restore: one "start", and the first value the restored counter wrote
# (after the old one's LINES) is past BEFORE (read before the checkpoint)
# and at most LAST-OF-THE-OLD + 1 (it goes on from the dump)
counted_on() {
  want "times the counter started" "$(grep -cx start $1)" 1 || return 1
  first=$(sed -n "$(($4 + 1))p" $1)
  [ -n "$first" ] && [ "$first" -gt "$2" ] && [ "$first" -le $(($3 + 1)) ] && return 0
  echo "first value after the restore: '$first', want in ($2, $(($3 + 1))]; log tail: $(tail -n 5 $1 | tr '\n' ' ')"
  return 1
}

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
# The counter (64 MiB limit, a bind mount) checkpointed with --export,
# restored in place, checked; then removed and restored from the export
# with --import (a migration), checked again. Both restores go on from the
# dump. One case for both (one run, one dump): each step is seconds under
# TCG.
case_podman_checkpoint() {
  c=pcr d=$T/pcr; mkdir -p $d
  id=$($P run -d --name $c --network none --memory 64m -v $d:/cnt $IMG sh -c "$COUNT") || return 1
  unit=libpod-$id.scope
  poll 120 count_at_least $d/log 10 || { echo "never counted to 10"; $P rm -f -t 0 $c; return 1; }
  before=$(last_of $d/log)
  $P container checkpoint --export $T/$c.tar --compress none $c > /dev/null || { $P rm -f -t 0 $c; return 1; }
  ok=0
  want "status after checkpoint" "$($P inspect --format '{{.State.Status}}' $c)" exited || ok=1
  poll 60 unit_gone $unit || { echo "unit $unit left after the checkpoint"; ok=1; }
  for how in in-place import; do
    echo "restore $how:"
    old=$(last_of $d/log) lines=$(grep -c . $d/log)
    if [ $how = import ]; then
      $P container restore --import $T/$c.tar > /dev/null || { ok=1; break; }
    else
      $P container restore $c > /dev/null || { $P rm -f -t 0 $c; return 1; }
    fi
    want "status after restore" "$($P inspect --format '{{.State.Status}}' $c)" running || ok=1
    pid=$($P inspect --format '{{.State.Pid}}' $c)
    restored_view $pid $unit 67108864 conmon || ok=1
    poll 120 count_at_least $d/log $((lines + 3)) || { echo "the restored counter does not count"; ok=1; }
    counted_on $d/log $before $old $lines || ok=1
    $P rm -f -t 0 $c > /dev/null || ok=1
    poll 60 unit_gone $unit || { echo "unit $unit left: $(systemctl show -p ActiveState $unit)"; ok=1; }
  done
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
# `ctr containers checkpoint --task` (the task keeps running) of the counter,
# then the old one killed and the checkpoint restored (`restore --live`)
# as a new container: check the kernel's view and that it counts on from
# the dump.
case_containerd_checkpoint() {
  d=$T/ccr; mkdir -p $d; ref=localhost/ccr:checkpoint
  $C run -d --runc-binary $bin --runc-systemd-cgroup --cgroup system.slice:ctrtest:ccr --memory-limit 67108864 \
    --mount type=bind,src=$d,dst=/cnt,options=rbind:rw $IMG ccr sh -c "$COUNT" > /dev/null || return 1
  poll 120 count_at_least $d/log 10 || { echo "never counted to 10"; return 1; }
  before=$(last_of $d/log)
  $C containers checkpoint --task ccr $ref || return 1
  $C task kill -s KILL ccr; poll 60 sh -c "! $C task ls | grep -q '^ccr .*RUNNING'"
  $C task rm -f ccr > /dev/null; $C c rm ccr
  poll 60 unit_gone ctrtest-ccr.scope || { echo "unit ctrtest-ccr.scope left"; return 1; }
  old=$(last_of $d/log) lines=$(grep -c . $d/log)
  $C containers restore --live ccr2 $ref || return 1
  ok=0
  pid=$($C task ls | awk '$1 == "ccr2" { print $2 }')
  want "status after restore" "$($C task ls | awk '$1 == "ccr2" { print $3 }')" RUNNING || ok=1
  # the restored spec keeps the first container's cgroupsPath
  restored_view $pid ctrtest-ccr.scope 67108864 containerd-shim || ok=1
  poll 120 count_at_least $d/log $((lines + 3)) || { echo "the restored counter does not count"; ok=1; }
  counted_on $d/log $before $old $lines || ok=1
  $C task kill -s KILL ccr2; poll 60 sh -c "! $C task ls | grep -q '^ccr2 .*RUNNING'"
  $C task rm -f ccr2 > /dev/null; $C c rm ccr2 || ok=1
  $C images rm $ref > /dev/null
  poll 60 unit_gone ctrtest-ccr.scope || { echo "unit ctrtest-ccr.scope left"; ok=1; }
  return $ok
}

mkimage || { echo "--- FAIL: image"; exit 1; }
check podman_run
check podman_limits
if echo podman_checkpoint | grep -Eq "${ENGINES_CASES:-.}"; then
  t0=$(date +%s); $P import $T/busybox.tar $IMG > /dev/null || echo "--- FAIL: podman_import"
  echo "    (podman import: $(($(date +%s) - t0))s)"
fi
check podman_checkpoint
containerd --address $A --root $T/ctrd-root --state $T/ctrd-state > $T/containerd.log 2>&1 &
CPID=$!
if poll 60 $C version; then
  check containerd_run
  check containerd_limits
  if echo containerd_checkpoint | grep -Eq "${ENGINES_CASES:-.}"; then
    t0=$(date +%s); $C images import $T/busybox-oci.tar > /dev/null || echo "--- FAIL: containerd_import"
    echo "    (ctr import: $(($(date +%s) - t0))s)"
  fi
  check containerd_checkpoint
else
  echo "--- FAIL: containerd_start"; tail -20 $T/containerd.log; fail=1
fi
kill $CPID; wait $CPID 2>/dev/null
rm -rf $T 2>/dev/null
exit $fail
