// Package integration holds casco's end-to-end tests: they drive a runtime
// binary through the runc command-line contract and check what the kernel
// says (/proc, /sys/fs/cgroup, mountinfo), never only what the runtime says
// about itself.
//
// Run as root:
//
//	make runc-ref    # the reference runc, upstream 1.5.3, in /var/tmp/casco-runc
//	RUNTIME=/var/tmp/casco-runc/v1.5.3/runc go test ./tests/integration/ -v   # prove the suite against it
//	go build -o casco . && go test ./tests/integration/ -v    # casco at <repo>/casco
//
// RUNTIME must be an absolute path to the runtime binary; without it the
// suite uses <repo>/casco and fails (never skips) when that is missing.
// BUSYBOX overrides the static busybox used for the test rootfs
// (default /bin/busybox, Debian's busybox-static).
package integration
