# lib.sh: shared by bench.sh and trace.sh (sourced, not executed).

BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$BENCH_DIR/../.." && pwd)
GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}

die() { echo "${0##*/}: $*" >&2; exit 1; }

# need_pkgs PKG...: apt-get install the Debian packages that are missing
need_pkgs() {
	missing=""
	for p in "$@"; do
		dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	echo "installing:$missing" >&2
	{ apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing >/dev/null; } ||
		die "apt-get install$missing failed"
}

# build_tools WORK: the driver, its launcher and the seccomp converter,
# into WORK/bin (spawn statically with musl when there is musl-gcc: the
# smaller its own footprint, the less it can show in a runtime's ru_maxrss)
build_tools() {
	mkdir -p "$1/bin"
	cc=$(command -v musl-gcc || command -v gcc) || die "no C compiler (apt-get install musl-tools)"
	"$cc" -static -O2 -Wall -Werror -o "$1/bin/spawn" "$BENCH_DIR/spawn.c" || die "building spawn failed"
	(cd "$REPO" && CGO_ENABLED=0 "$GO" build -o "$1/bin/driver" ./tests/bench/driver) || die "building the driver failed"
	(cd "$REPO" && CGO_ENABLED=0 "$GO" build -o "$1/bin/seccompconv" ./tests/bench/seccompconv) || die "building seccompconv failed"
}

# make_bundles WORK: a busybox-static rootfs in WORK/rootfs, runc's default
# spec, and from it one bundle directory per scenario in WORK/bundles
# (run, nonet, sleep; seccomp when the podman profile exists).
make_bundles() {
	work=$1
	rootfs=$work/rootfs
	BUSYBOX=/bin/busybox "$REPO/tests/mkrootfs.sh" "$rootfs" || die "building the busybox rootfs failed"
	mkdir -p "$work/spec"
	runc spec --bundle "$work/spec" || die "runc spec failed"
	"$work/bin/driver" prepare -spec "$work/spec/config.json" -rootfs "$rootfs" -out "$work/bundles" ||
		die "preparing the bundles failed"
	profile=/usr/share/containers/seccomp.json
	if [ -f "$profile" ]; then
		mkdir -p "$work/bundles/seccomp"
		"$work/bin/seccompconv" -profile "$profile" -config "$work/bundles/run/config.json" \
			-o "$work/bundles/seccomp/config.json" 2>"$work/seccomp-note" ||
			die "converting $profile failed: $(cat "$work/seccomp-note")"
	fi
}

# cleanup_leftovers WORK TAG: force-delete any container left under the
# state roots in WORK (crun in a mount namespace that hides the cgroup2
# controllers, as the driver runs it), remove cgroups named TAG-*, remove WORK.
cleanup_leftovers() {
	work=$1 tag=$2
	for rt in casco runc crun; do
		root=$work/root-$rt
		[ -d "$root" ] || continue
		for d in "$root"/*; do
			[ -d "$d" ] || continue
			id=${d##*/}
			case $rt in
			casco) "$work/bin/casco" --root "$root" delete --force "$id" ;;
			runc) runc --root "$root" delete --force "$id" ;;
			crun) : >"$work/empty-controllers"
				unshare -m sh -c 'mount --make-rprivate / &&
					mount --bind "$1" /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null;
					exec crun --root "$2" delete --force "$3"' sh "$work/empty-controllers" "$root" "$id" ;;
			esac >/dev/null 2>&1
		done
	done
	# cgroups: rmdir only empty directories of our own ids, deepest first
	left=$(find /sys/fs/cgroup -mindepth 1 -maxdepth 8 -depth -type d -name "$tag-*" 2>/dev/null)
	if [ -n "$left" ]; then
		echo "${0##*/}: removing $(echo "$left" | wc -l) leftover cgroup directories named $tag-*" >&2
		echo "$left" | while read -r d; do rmdir "$d" 2>/dev/null || echo "  could not remove $d" >&2; done
	fi
	case $work in /tmp/casco-bench*) rm -rf "$work" ;; esac
}
