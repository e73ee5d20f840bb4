#!/bin/sh
# Runs in the systemd guest (from run.sh): each named suite with casco and
# with the reference runc (/job/runc, static). Every suite/runtime pair is framed by
#   == suite NAME RUNTIME  ...  @@SUITE NAME RUNTIME exit=N
# so compare.sh tells a crashed suite from a passing one.
cd /job
export BUSYBOX=/job/busybox
# the integration tests that exercise the cgroup driver: lifecycle, kill,
# delete, update, pause, events (stats, OOM), ps
INTEGRATION='^(TestLifecycle|TestNaturalExit|TestKill|TestKillAll|TestDelete|TestRun|TestUpdate|TestUpdateResources|TestUpdateErrors|TestEventsStats|TestEventsOOM|TestPauseResume|TestPsJSON)$'
for rt in casco runc; do
  bin=/job/casco; [ $rt = runc ] && bin=/job/runc
  printf '#!/bin/sh\nexec %s --systemd-cgroup "$@"\n' "$bin" > /job/sd-$rt
  chmod 755 /job/sd-$rt
done

frame() { # frame SUITE RUNTIME CMD...
  s=$1 r=$2; shift 2
  echo "== suite $s $r"
  "$@"
  echo "@@SUITE $s $r exit=$?"
}

for suite in "$@"; do
  case $suite in
  cgroups)
    frame cgroups casco /job/cgroups.test -test.v -test.timeout 15m ;;
  driver)
    for rt in casco runc; do
      bin=/job/casco; [ $rt = runc ] && bin=/job/runc
      frame driver $rt env SDTEST_TRACE=1 RUNTIME=$bin /job/systemd.test -test.v -test.timeout 16m
    done ;;
  integration)
    for rt in casco runc; do
      frame integration $rt env RUNTIME=/job/sd-$rt /job/integration.test -test.v -test.timeout 20m -test.run "$INTEGRATION"
    done ;;
  user)
    frame user casco sh /job/guest-user.sh casco /job/casco
    frame user runc sh /job/guest-user.sh runc /job/runc ;;
  engines)
    for rt in casco runc; do
      bin=/job/casco; [ $rt = runc ] && bin=/job/runc
      frame engines $rt sh /job/guest-engines.sh $rt $bin
    done ;;
  esac
done
systemctl list-units --failed --plain --no-legend | sed 's/^/failed unit: /'
