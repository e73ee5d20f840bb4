// Package integration holds casco's end-to-end tests: they drive a runtime
// binary through the runc command-line contract and check what the kernel
// says (/proc, /sys/fs/cgroup, mountinfo), never only what the runtime says
// about itself.
//
// Run as root:
//
//	RUNTIME=/usr/sbin/runc go test ./tests/integration/ -v   # prove the suite against runc
//	go build -o casco . && go test ./tests/integration/ -v    # casco at <repo>/casco
//
// RUNTIME must be an absolute path to the runtime binary; without it the
// suite uses <repo>/casco and fails (never skips) when that is missing.
// BUSYBOX overrides the static busybox used for the test rootfs
// (default /bin/busybox, Debian's busybox-static).
package integration
