#!/bin/sh
# tests/v2/crun.sh [REGEX]: the integration tests matching REGEX (default
# crun's annotations) run against Debian's crun and against casco, one
# after the other, in ONE boot of the guest without systemd
# (tests/guest/run-in-guest.sh --bare, pure cgroup v2). crun refuses hybrid
# cgroups ("cgroups in hybrid mode not supported"), so the guest is where
# the two can be compared on any host. crun is dynamically linked: it goes
# in with its libraries. Prints each runtime's
# results; exits non-zero when casco fails a test (crun's failures are
# reported: they are crun's).
#
# Env: GUEST_ACCEL, BUSYBOX (static busybox), CRUN.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
guest=$repo/tests/guest/run-in-guest.sh
run=${1:-TestAnnotation|TestFeaturesAnnotations}
crun=${CRUN:-/usr/bin/crun}
busybox=${BUSYBOX:-/bin/busybox}
GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
[ -x "$crun" ] || { echo "crun: $crun missing (apt-get install crun)" >&2; exit 2; }
work=$(mktemp -d /tmp/casco-crun.XXXXXX)
trap 'rm -rf "$work"' EXIT
make -s -C "$repo" casco >&2
cp "$repo/casco" "$work/casco"
cp "$crun" "$work/crun.bin"
mkdir "$work/lib"
for l in $(ldd "$crun" | awk '$3 ~ /^\// {print $3}'); do
	case $l in */libc.so.*) ;; *) cp -L "$l" "$work/lib/" ;; esac
done
printf '#!/bin/sh\nLD_LIBRARY_PATH=/job/lib exec /job/crun.bin "$@"\n' >"$work/crun"
chmod +x "$work/crun"
(cd "$repo" && CGO_ENABLED=0 "$GO" test -c -o "$work/integration.test" ./tests/integration)
set +e
"$guest" --bare --timeout 900 -f "$work/crun.bin:/job/crun.bin" -f "$work/crun:/job/crun" \
	-f "$work/lib:/job/lib" -f "$work/integration.test:/job/integration.test" -f "$busybox:/job/busybox" \
	-f "$work/casco:/job/casco" -e "RUN=$run" -c '
for rt in crun casco; do
	echo "== $rt: $(/job/$rt --version | head -1)"
	RUNTIME=/job/$rt BUSYBOX=/job/busybox /job/integration.test -test.v -test.run "$RUN" >/tmp/$rt.out 2>&1
	echo "@@ $rt exit=$?"
	grep -E "^\s*--- |_test.go:|stderr:" /tmp/$rt.out
done' | tee "$work/guest.log"
grep -q "^@@ casco exit=0" "$work/guest.log"
