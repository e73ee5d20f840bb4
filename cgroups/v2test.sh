#!/bin/sh
# Runs the cgroups package tests for real on cgroup v2, in the throw-away
# guest without systemd (tests/guest/run-in-guest.sh --bare), which this
# host's cgroups need not be. Arguments go to the test binary
# (e.g. -test.run TestFs2).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bin=$(mktemp /tmp/cgroups-v2.XXXXXX.test)
trap 'rm -f "$bin"' EXIT
(cd "$here/.." && CGO_ENABLED=0 "${GO:-go}" test -c -o "$bin" ./cgroups)
args=
for a in "$@"; do args="$args '$(printf '%s' "$a" | sed "s/'/'\\\\''/g")'"; done
exec "$here/../tests/guest/run-in-guest.sh" --bare -f "$bin:/job/cgroups.test" -c "/job/cgroups.test -test.v$args"
