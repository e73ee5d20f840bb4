#!/usr/bin/env bash
# Build the kubelet from the Go module proxy, once per version, into
# $KUBELET_CACHE/kubelet-<version>/kubelet (default /var/tmp/casco-kubelet).
# The wrapper module beside this script (wrapper/go.mod) requires
# k8s.io/kubernetes and points each staging module it replaces with
# ./staging/... at the matching v0 release; it is copied into the cache and
# cmd/kubelet is built from the copy with -mod=mod, so the go.sum written
# there stays out of the tree. A directory with a .done stamp is reused; a
# lock beside it lets a build started ahead of time (make test starts it
# early) and the suite that needs it share one build.
# The kubelet is a big build and the machine is shared: it runs under nice.
#
# usage: tests/kubelet/build.sh        (prints the bin dir)
set -euo pipefail

KUBELET_CACHE=${KUBELET_CACHE:-/var/tmp/casco-kubelet}
KUBERNETES_VERSION=${KUBERNETES_VERSION:-v1.37.2}
GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
export GOFLAGS=-buildvcs=false GOTOOLCHAIN=local
here=$(cd "$(dirname "$0")" && pwd)

out=$KUBELET_CACHE/kubelet-$KUBERNETES_VERSION
mkdir -p "$KUBELET_CACHE"
exec 9>"$out.lock"
flock 9
[[ -f $out/.done ]] && { echo "$out"; exit 0; }
grep -q "k8s.io/kubernetes $KUBERNETES_VERSION\$" "$here/wrapper/go.mod" ||
	{ echo "build: $here/wrapper/go.mod does not require k8s.io/kubernetes $KUBERNETES_VERSION" >&2; exit 1; }
rm -rf "$out/src" && mkdir -p "$out/src" && cp "$here/wrapper/go.mod" "$out/src/"
v=k8s.io/component-base/version
ldflags="-s -w -X $v.gitVersion=$KUBERNETES_VERSION -X $v.gitMajor=1 -X $v.gitMinor=${KUBERNETES_VERSION#v1.}"
ldflags=${ldflags%.*}
(
	cd "$out/src"
	# CGO off as in Kubernetes' own release builds of the kubelet
	CGO_ENABLED=0 nice -n 10 "$GO" build -mod=mod -trimpath -ldflags "$ldflags" \
		-o "$out/kubelet" k8s.io/kubernetes/cmd/kubelet
) >&2
rm -rf "$out/src"
touch "$out/.done"
echo "$out"
