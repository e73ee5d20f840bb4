#!/bin/sh
# tests/v2/run.sh: casco's cgroup v2 suites, for real, in ONE boot of the
# throw-away guest (tests/guest/run-in-guest.sh --bare: Debian 12, kernel
# 6.1, no systemd, the whole cgroup v2 tree the suites' own):
#   1. the cgroups package tests (what cgroups/v2test.sh runs);
#   2. the whole integration suite (tests/integration) against the casco
#      binary built by `make casco` (statically linked), from the guest's
#      root cgroup; the checkpoint tests with the guest's CRIU;
#   3. a few container tests again from a populated service cgroup, where
#      casco runs on real cgroup v2 hosts;
#   4. rootless (tests/v2/rootless.sh): an unprivileged user runs casco and
#      runc, in a delegated subtree (limits read back, processes seen in
#      the container's cgroup) and where nothing is delegated.
# It prints `v2: N passed, M failed` (top-level tests of all of them) and
# exits non-zero when a test failed or a suite did not run to its end.
#
# Usage: tests/v2/run.sh [-run REGEX]    REGEX selects integration tests
# Env:   GUEST_ACCEL (default tcg), V2_TIMEOUT (guest seconds, default
#        3600), BUSYBOX (a static busybox for the test rootfs, default
#        /bin/busybox), V2_LOG (keep the guest's output there), V2_SUITES
#        (the suites to run, default "cgroups integration service rootless").
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
guest=$repo/tests/guest/run-in-guest.sh
GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
run=
case "${1:-}" in
  -run) run=$2 ;;
  "") ;;
  *) echo "usage: $0 [-run REGEX]" >&2; exit 2 ;;
esac
busybox=${BUSYBOX:-/bin/busybox}
suites=${V2_SUITES:-cgroups integration service rootless}
# The suite copies busybox into every rootfs: it must be static
# (busybox-static), which the guest's own /bin/busybox is only if the
# guest image was built from it. Bring the host's along to be sure.
if [ ! -x "$busybox" ] || ldd "$busybox" >/dev/null 2>&1; then
  echo "v2: $busybox is not a static busybox (apt-get install busybox-static, or set BUSYBOX)" >&2
  exit 2
fi

work=$(mktemp -d /tmp/casco-v2.XXXXXX)
trap 'rm -rf "$work"' EXIT
"$guest" --build
echo "v2: building casco (make casco) and the test binaries" >&2
make -s -C "$repo" casco >&2
cp "$repo/casco" "$work/casco"
ref_runc=${REF_RUNC:-/var/tmp/casco-runc/v1.5.3/runc} # the reference runc, static (make runc-ref)
[ -x "$ref_runc" ] || { echo "v2: no reference runc at $ref_runc (make runc-ref)" >&2; exit 2; }
(cd "$repo" && CGO_ENABLED=0 "$GO" test -c -o "$work/cgroups.test" ./cgroups \
            && CGO_ENABLED=0 "$GO" test -c -o "$work/integration.test" ./tests/integration \
            && CGO_ENABLED=0 "$GO" build -o "$work/seccompagent" ./tests/integration/testdata/seccompagent \
            && CGO_ENABLED=0 "$GO" build -o "$work/hangcriu" ./tests/integration/testdata/hangcriu)
cp "$busybox" "$work/busybox"
# The seccomp tests use the agent built above (SECCOMPAGENT), the stall
# tests the stand-in CRIU (HANGCRIU_BIN): the guest has no Go toolchain to
# build them.
skip=

# In the guest: each suite ends with a marker line carrying its exit code,
# so a crashed or killed suite is told apart from a passing one.
#   cgroups      the cgroups package tests
#   integration  the whole integration suite, run from the root cgroup
#   service      a few container tests run from a populated, non-root
#                cgroup, where casco itself runs on a real cgroup v2 host
#                (a systemd service or login session): only there do
#                relative and default cgroup paths meet cgroup v2's
#                no-internal-processes rule
snippet='
want() { case " $SUITES " in *" $1 "*) return 0;; esac; return 1; }
if want cgroups; then
echo "== suite cgroups: the cgroups package (cgroup v2)"
/job/cgroups.test -test.v -test.timeout 20m
echo "@@SUITE cgroups exit=$?"
fi
if want integration; then
echo "== suite integration: casco, from the root cgroup"
SECCOMPAGENT=/job/seccompagent HANGCRIU_BIN=/job/hangcriu RUNTIME=/job/casco BUSYBOX=/job/busybox /job/integration.test -test.v -test.timeout 50m -test.skip "$SKIP" ${RUN:+-test.run "$RUN"}
echo "@@SUITE integration exit=$?"
fi
if want rootless; then
echo "== suite rootless: an unprivileged user runs runc and casco (a delegated subtree, and none)"
CASCO=/job/casco RUNC=/job/runc BUSYBOX=/job/busybox /bin/sh /job/rootless.sh
echo "@@SUITE rootless exit=$?"
fi
if want service; then
echo "== suite service: casco, from /system.slice/casco-ci.service (a populated cgroup)"
(
  cg=/sys/fs/cgroup/system.slice
  mkdir -p $cg/casco-ci.service
  for c in $(cat /sys/fs/cgroup/cgroup.controllers); do echo "+$c" > $cg/cgroup.subtree_control; done
  echo 0 > $cg/casco-ci.service/cgroup.procs
  SECCOMPAGENT=/job/seccompagent HANGCRIU_BIN=/job/hangcriu RUNTIME=/job/casco BUSYBOX=/job/busybox exec /job/integration.test -test.v -test.timeout 20m -test.run "$SERVICE_RUN"
)
echo "@@SUITE service exit=$?"
fi
'
service_run='^(TestLifecycle|TestRun|TestCgroupResources|TestUpdate|TestEventsStats|TestPauseResume)$'
log=${V2_LOG:-$work/guest.log}
set +e
{
  "$guest" --bare --timeout "${V2_TIMEOUT:-3600}" \
    -f "$work/casco:/job/casco" -f "$ref_runc:/job/runc" -f "$work/cgroups.test:/job/cgroups.test" \
    -f "$work/integration.test:/job/integration.test" -f "$work/busybox:/job/busybox" \
    -f "$work/seccompagent:/job/seccompagent" -f "$work/hangcriu:/job/hangcriu" -f "$here/rootless.sh:/job/rootless.sh" -e "SUITES=$suites" \
    -e "RUN=$run" -e "SKIP=$skip" -e "SERVICE_RUN=$service_run" -c "$snippet"
  echo $? > "$work/guest.rc"
} | tee "$log"
set -e
grc=$(cat "$work/guest.rc")

# Top-level results only (subtests are indented), per suite.
summary() { # the lines between the suite's "== suite NAME" header and the next
  awk -v s="$1" '
    /^== suite / { in_s = ($3 == s ":") }
    in_s && /^--- PASS: / { p++ }
    in_s && /^--- FAIL: / { f++; print "v2: FAIL " s ": " $3 > "/dev/stderr" }
    END { printf "%d %d\n", p, f }' "$log"
}
rc=0 tp=0 tf=0 line=
for s in $suites; do
  set -- $(summary $s)
  tp=$((tp + $1)) tf=$((tf + $2)) line="$line${line:+; }$s: $1 passed, $2 failed"
  if ! grep -q "^@@SUITE $s exit=" "$log"; then
    echo "v2: the $s suite did not finish (guest exit $grc)" >&2; rc=1
  elif ! grep -q "^@@SUITE $s exit=0" "$log"; then
    rc=1
    [ "$2" -gt 0 ] || echo "v2: the $s suite failed without a failing test (a crash? see the log)" >&2
  fi
done
[ "$grc" = 0 ] || rc=1
echo "v2 $line"
echo "v2: $tp passed, $tf failed"
exit $rc
