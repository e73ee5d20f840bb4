#!/usr/bin/env bash
# Build the CRI tools from the Go module proxy, once per version:
#   crictl, critest    sigs.k8s.io/cri-tools      (critest = go test -c ./cmd/critest)
#   containerd, ctr,   github.com/containerd/containerd/v2
#   containerd-shim-runc-v2
#   ginkgo             github.com/onsi/ginkgo/v2 (the CLI critest -parallel runs)
# into $CRI_CACHE/<module>-<version>/ (default /var/tmp/casco-cri). A
# directory with a .done stamp is reused as it is, so only a fresh machine
# (or a new version) builds. The module source is copied out of the module
# cache and built with -mod=mod, so replace directives and missing vendor/
# trees don't matter. Each build holds a lock beside its directory, so a
# build started ahead of time (make test starts them early) and a suite
# that needs its result share one build.
#
# usage: tests/cri/build.sh cri-tools|ginkgo|containerd    (prints the bin dir)
set -euo pipefail

CRI_CACHE=${CRI_CACHE:-/var/tmp/casco-cri}
CRITOOLS_VERSION=${CRITOOLS_VERSION:-v1.37.0}
CONTAINERD_VERSION=${CONTAINERD_VERSION:-v2.4.2}
GINKGO_VERSION=${GINKGO_VERSION:-v2.32.1}   # the one cri-tools v1.37.0 requires
GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
export GOFLAGS=-buildvcs=false GOTOOLCHAIN=local

# lock DIR: hold DIR.lock until this script exits (another build of DIR waits)
lock() {
	local fd
	mkdir -p "$(dirname "$1")"
	exec {fd}>"$1.lock"
	flock "$fd"
}

# fetch MODULE VERSION DIR: the module's source, writable, in DIR/src
fetch() {
	local mod=$1 ver=$2 dir=$3 src
	src=$("$GO" mod download -json "$mod@$ver" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	[[ -n $src && -d $src ]] || { echo "build: go mod download $mod@$ver failed" >&2; return 1; }
	rm -rf "$dir/src" && mkdir -p "$dir" && cp -r "$src" "$dir/src" && chmod -R u+w "$dir/src"
}

build_critools() {
	local out=$CRI_CACHE/cri-tools-$CRITOOLS_VERSION
	lock "$out"
	[[ -f $out/.done ]] && { echo "$out"; return 0; }
	fetch sigs.k8s.io/cri-tools "$CRITOOLS_VERSION" "$out"
	(
		cd "$out/src"
		CGO_ENABLED=0 "$GO" build -mod=mod -trimpath -o "$out/crictl" ./cmd/crictl
		CGO_ENABLED=0 "$GO" test -mod=mod -trimpath -c -o "$out/critest" ./cmd/critest
	) >&2
	rm -rf "$out/src"
	touch "$out/.done"
	echo "$out"
}

build_containerd() {
	local out=$CRI_CACHE/containerd-$CONTAINERD_VERSION c
	lock "$out"
	[[ -f $out/.done ]] && { echo "$out"; return 0; }
	fetch github.com/containerd/containerd/v2 "$CONTAINERD_VERSION" "$out"
	(
		cd "$out/src"
		# CGO off: no btrfs snapshotter (it needs btrfs headers), nothing
		# else of containerd's needs cgo
		for c in containerd containerd-shim-runc-v2 ctr; do
			CGO_ENABLED=0 "$GO" build -mod=mod -trimpath \
				-ldflags "-X github.com/containerd/containerd/v2/version.Version=$CONTAINERD_VERSION" \
				-o "$out/$c" "./cmd/$c"
		done
	) >&2
	rm -rf "$out/src"
	touch "$out/.done"
	echo "$out"
}

build_ginkgo() {
	local out=$CRI_CACHE/ginkgo-$GINKGO_VERSION
	lock "$out"
	[[ -f $out/.done ]] && { echo "$out"; return 0; }
	fetch github.com/onsi/ginkgo/v2 "$GINKGO_VERSION" "$out"
	(cd "$out/src" && CGO_ENABLED=0 "$GO" build -mod=mod -trimpath -o "$out/ginkgo" ./ginkgo) >&2
	rm -rf "$out/src"
	touch "$out/.done"
	echo "$out"
}

case ${1:-} in
cri-tools) build_critools ;;
ginkgo) build_ginkgo ;;
containerd) build_containerd ;;
*) echo "usage: $0 cri-tools|ginkgo|containerd" >&2; exit 2 ;;
esac
