#!/bin/sh
# Runs the cgroups tests for real on cgroup v2, in the throw-away guest of
# shared/v2guest (the development hosts are v1/hybrid).
# --accel tcg: nested KVM on the development VMs dies with an emulation
# failure (cmpxchg16b) during guest boot; TCG takes ~6 s for the whole run.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
guest=${V2GUEST:-$here/../../shared/v2guest/run-in-v2-guest.sh}
[ -x "$guest" ] || guest=/work/shared/v2guest/run-in-v2-guest.sh
bin=$(mktemp /tmp/cgroups-v2.XXXXXX.test)
trap 'rm -f "$bin"' EXIT
(cd "$here/.." && CGO_ENABLED=0 go test -c -o "$bin" ./cgroups)
exec "$guest" --accel "${V2GUEST_ACCEL:-tcg}" -f "$bin:/cg.test" -- /cg.test -test.v "$@"
