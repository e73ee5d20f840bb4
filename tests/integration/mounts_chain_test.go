package integration

// Bind mounts whose sources are inside the container's own rootfs, built
// by earlier mounts of the same config: runc 1.2+ mounts them in config
// order, a source seen as the container's mount namespace has it by then.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestMountChainInRootfs builds a tree of binds at /mnt (a, then b at
// /mnt/x, c at /mnt/x/y, a again at /mnt/x/y/z, some through symlinks),
// binds parts of that tree onto itself by their host paths under the
// rootfs, then binds the whole tree at /final; the file at the end of the
// longest path must be a's. With and without a user namespace (the bind
// sources unreachable by the container's root), with and without idmapped
// sources, as runc's own mounts.bats "mount order" cases.
func TestMountChainInRootfs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name          string
		userns, idmap bool
	}{
		{"plain", false, false},
		{"userns", true, false},
		{"idmap", false, true},
		{"userns-idmap", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if isRunc() && runcBefore12(t, "binds from earlier binds of the rootfs in config order") {
				return
			}
			r := newRuntime(t)
			b := newBundle(t, "cat", "/final/x/y/z/z/x/y/z/x/file")
			if tc.userns {
				if readFileString("/proc/sys/user/max_user_namespaces") == "0\n" {
					t.Skip("user namespaces are disabled (/proc/sys/user/max_user_namespaces is 0)")
				}
				b.addNamespace(specs.UserNamespace)
				b.Spec.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
				b.Spec.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
			}
			src := filepath.Join(b.Dir, "bind-src")
			for _, sub := range []string{"a/x", "b/y", "c/z"} {
				if err := os.MkdirAll(filepath.Join(src, sub), 0o755); err != nil {
					t.Fatal(err)
				}
				mustWrite(t, filepath.Join(src, sub, "file"), sub+"\n")
				top := filepath.Dir(sub)
				if err := os.Symlink(top, filepath.Join(src, "sym-"+top)); err != nil {
					t.Fatal(err)
				}
			}
			// the container's root may not reach the sources by path: in a
			// user namespace they must come through the runtime
			if err := os.Chmod(src, 0o750); err != nil {
				t.Fatal(err)
			}
			if tc.idmap {
				skipUnlessIdmappable(t, src)
			}
			for _, d := range []string{"mnt", "final"} {
				if err := os.MkdirAll(filepath.Join(b.Rootfs, d), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			bind := func(source, dest string, opts ...string) {
				m := specs.Mount{Source: source, Destination: dest, Type: "bind", Options: append([]string{"rbind", "rprivate"}, opts...)}
				if len(opts) > 0 && opts[0] == "idmap" {
					m.Options = []string{"rbind", "idmap", "rprivate"}
					ids := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
					m.UIDMappings, m.GIDMappings = ids, ids
				}
				b.Spec.Mounts = append(b.Spec.Mounts, m)
			}
			var inTree []string
			if tc.idmap {
				inTree = []string{"idmap"}
			}
			rootfs := b.Rootfs
			bind(filepath.Join(src, "a"), "/mnt")
			bind(filepath.Join(src, "sym-b"), "/mnt/x")
			bind(filepath.Join(src, "c"), "/mnt/x/y")
			bind(filepath.Join(src, "sym-a"), "/mnt/x/y/z")
			bind(filepath.Join(rootfs, "mnt/x"), filepath.Join(rootfs, "mnt/x/y/z/x"), inTree...)
			bind(filepath.Join(rootfs, "mnt/x/y"), filepath.Join(rootfs, "mnt/x/y/z"), inTree...)
			bind(filepath.Join(rootfs, "mnt"), filepath.Join(rootfs, "final"), inTree...)
			_, res := r.runForeground(b)
			if res.Err != nil || res.Code != 0 || strings.TrimSpace(res.Stdout) != "a/x" {
				t.Errorf("want a/x from /final/x/y/z/z/x/y/z/x/file: %s\nstdout: %q", res, res.Stdout)
			}
		})
	}
}
