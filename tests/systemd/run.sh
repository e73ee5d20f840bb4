#!/bin/bash
# tests/systemd/run.sh: casco's systemd cgroup driver (--systemd-cgroup)
# against a real systemd, PID 1 of a throw-away QEMU guest on pure cgroup
# v2 (tests/guest/run-in-guest.sh), each case run with casco and with the
# reference runc (REF_RUNC, static: `make runc-ref`) in the same boot:
#   cgroups      the cgroups package tests, with the live systemd ones
#   driver       tests/systemd: unit, properties vs cgroup files, update,
#                daemon-reexec, pause, ps, events, OOM, delete, unit clash
#   integration  the lifecycle/update/pause/events/ps integration tests
#                through a `RUNTIME --systemd-cgroup` wrapper
#   user         the systemd user instance of an unprivileged user (rootless)
#   engines      podman (cgroup_manager=systemd), containerd (SystemdCgroup)
# and, on this host first: without systemd, --systemd-cgroup's one clear error.
# Prints a casco-vs-runc table and `systemd: N passed, M failed`; exits 1
# when casco fails a case runc passes, or a suite does not finish.
# Usage: tests/systemd/run.sh [SUITE...]   (default: all)
# Env: SYSTEMD_LOG (keep the guest output there), GUEST_ACCEL.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
suites=${*:-cgroups driver integration user engines}
busybox=${BUSYBOX:-/bin/busybox}
if [ ! -x "$busybox" ] || ldd "$busybox" >/dev/null 2>&1; then
  echo "systemd: $busybox is not a static busybox (apt-get install busybox-static)" >&2; exit 2
fi

work=$(mktemp -d /tmp/casco-systemd.XXXXXX)
trap 'rm -rf "$work"' EXIT
t0=$SECONDS
"$repo/tests/guest/run-in-guest.sh" --build
echo "systemd: guest image ready ($((SECONDS - t0))s); building casco and the test binaries" >&2
make -s -C "$repo" casco >&2
cp "$repo/casco" "$work/casco"
ref_runc=${REF_RUNC:-/var/tmp/casco-runc/v1.5.3/runc}
[ -x "$ref_runc" ] || { echo "systemd: no reference runc at $ref_runc (make runc-ref)" >&2; exit 2; }
cp "$ref_runc" "$work/runc"
(cd "$repo" && CGO_ENABLED=0 "$GO" test -c -o "$work/cgroups.test" ./cgroups \
  && CGO_ENABLED=0 "$GO" test -c -o "$work/systemd.test" ./tests/systemd \
  && CGO_ENABLED=0 "$GO" test -c -o "$work/integration.test" ./tests/integration)
cp "$busybox" "$work/busybox"
cp "$here/guest-suites.sh" "$work/suites.sh"; cp "$here/guest-user.sh" "$here/guest-engines.sh" "$work/"

log=${SYSTEMD_LOG:-$work/guest.log}
: > "$log"
set +e
# Without systemd (this host, unless it boots systemd): one clear error.
for rt in casco runc; do
  bin=$work/casco; [ $rt = runc ] && bin=$work/runc
  echo "== suite host $rt"
  RUNTIME=$bin BUSYBOX=$busybox "$work/systemd.test" -test.v -test.run '^TestNoSystemdHost$'
  echo "@@SUITE host $rt exit=$?"
done 2>&1 | tee -a "$log"
"$repo/tests/guest/run-in-guest.sh" --timeout "${SYSTEMD_TIMEOUT:-2400}" \
  -f "$work/casco:casco" -f "$work/runc:runc" -f "$work/cgroups.test:cgroups.test" -f "$work/systemd.test:systemd.test" \
  -f "$work/integration.test:integration.test" -f "$work/busybox:busybox" -f "$work/suites.sh:suites.sh" -f "$work/guest-user.sh:guest-user.sh" -f "$work/guest-engines.sh:guest-engines.sh" \
  -c "sh /job/suites.sh $suites" | tee -a "$log"
grc=${PIPESTATUS[0]}
set -e
rc=0
"$here/compare.sh" "$log" || rc=$?
[ "$grc" = 0 ] || { echo "systemd: guest exit $grc" >&2; rc=1; }
echo "systemd: total $((SECONDS - t0))s" >&2
exit $rc
