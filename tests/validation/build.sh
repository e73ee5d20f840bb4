#!/usr/bin/env bash
# Build the OCI runtime-tools validation programs, runtimetest and a
# busybox root filesystem tarball into tests/validation/bin/.
#
# usage: build.sh [-f]     (-f rebuilds even when bin/ looks up to date)
#
# Needs: Go (the module proxy or a warm module cache), tar, gzip and a
# statically linked busybox (Debian's busybox-static, installed with apt-get
# when missing and we are root).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bin=$here/bin
force=0
[[ ${1:-} == -f ]] && force=1

export PATH=$PATH:/usr/local/go/bin
command -v go >/dev/null || { echo "build.sh: go not found" >&2; exit 2; }

arch=$(cd "$here" && go env GOARCH)
stamp=$bin/.built
rootfs=$bin/rootfs-$arch.tar.gz

uptodate() {
	[[ -f $stamp && -f $rootfs && -x $bin/runtimetest ]] || return 1
	local f
	for f in go.mod go.sum tools.go build.sh runtimetest-rlimit.go.in; do
		[[ $here/$f -nt $stamp ]] && return 1
	done
	return 0
}

if [[ $force == 0 ]] && uptodate; then
	exit 0
fi

mkdir -p "$bin"

echo "build.sh: building runtimetest and validation programs" >&2
# Static binaries: runtimetest runs inside the busybox rootfs, where there is
# no libc.
(cd "$here" && CGO_ENABLED=0 go build -trimpath -o "$bin/" \
	github.com/opencontainers/runtime-tools/validation/...)

# runtimetest gets the standard library's syscall/rlimit.go replaced (see
# runtimetest-rlimit.go.in) so that it reports the RLIMIT_NOFILE the runtime
# set rather than the one Go raises itself to at start-up.
goroot=$(go env GOROOT)
mkdir -p "$bin/overlay"
cp "$here/runtimetest-rlimit.go.in" "$bin/overlay/rlimit.go"
printf '{"Replace":{"%s":"%s"}}\n' "$goroot/src/syscall/rlimit.go" "$bin/overlay/rlimit.go" \
	>"$bin/overlay/overlay.json"
if ! (cd "$here" && CGO_ENABLED=0 go build -trimpath -overlay "$bin/overlay/overlay.json" \
	-o "$bin/runtimetest" github.com/opencontainers/runtime-tools/cmd/runtimetest); then
	echo "build.sh: WARNING: overlay build of runtimetest failed; building it as is" \
		"(process_rlimits' soft RLIMIT_NOFILE check will then fail for every runtime)" >&2
	(cd "$here" && CGO_ENABLED=0 go build -trimpath -o "$bin/runtimetest" \
		github.com/opencontainers/runtime-tools/cmd/runtimetest)
fi

# --- root filesystem -------------------------------------------------------
busybox=""
for c in /bin/busybox /usr/bin/busybox; do
	if [[ -x $c ]] && file -L "$c" 2>/dev/null | grep -q 'statically linked'; then
		busybox=$c
		break
	fi
done
if [[ -z $busybox ]]; then
	if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
		echo "build.sh: installing busybox-static" >&2
		apt-get install -y busybox-static >/dev/null 2>&1 ||
			{ apt-get update >/dev/null 2>&1 && apt-get install -y busybox-static >/dev/null 2>&1; }
		busybox=/bin/busybox
	fi
	[[ -x $busybox ]] || { echo "build.sh: need a static busybox (apt-get install busybox-static)" >&2; exit 2; }
fi

echo "build.sh: building $(basename "$rootfs") from $busybox" >&2
stage=$(mktemp -d "${TMPDIR:-/tmp}/casco-rootfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT
r=$stage/rootfs
mkdir -p "$r"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root,home,var/tmp,run,mnt}
chmod 1777 "$r/tmp" "$r/var/tmp"
chmod 0700 "$r/root"
install -m 0755 "$busybox" "$r/bin/busybox"
# One symlink per applet, at the place busybox itself says it belongs.
"$busybox" --list-full | while read -r applet; do
	[[ $applet == bin/busybox || $applet == linuxrc ]] && continue
	d=$(dirname "$applet")
	rel=$(realpath -ms --relative-to="/$d" /bin/busybox)
	ln -sf "$rel" "$r/$applet"
done
cat >"$r/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
EOF
cat >"$r/etc/group" <<'EOF'
root:x:0:
daemon:x:1:
bin:x:2:
tty:x:5:
nogroup:x:65534:
EOF
echo "casco-validation" >"$r/etc/hostname"
: >"$r/etc/resolv.conf"
printf '127.0.0.1\tlocalhost\n::1\tlocalhost\n' >"$r/etc/hosts"

tar --numeric-owner --owner=0 --group=0 -C "$r" -czf "$rootfs.tmp" .
mv "$rootfs.tmp" "$rootfs"
touch "$stamp"
echo "build.sh: done: $(ls "$bin" | grep -cvx -e 'rootfs-.*' -e runtimetest -e overlay) validation programs, runtimetest and $(basename "$rootfs") in $bin" >&2
