package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestContractBindDanglingSymlink: a bind destination reached through a
// dangling symlink of the image (a middle component, or the last one) is
// created where the symlink points, resolved inside the rootfs as
// securejoin does for runc, never on the host: targets that would climb out
// of the rootfs (`../../..`) land inside it.
func TestContractBindDanglingSymlink(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	b := newBundle(t, sleeper...)
	host := t.TempDir() // where an escape would land
	climb := strings.Repeat("../", 12)
	links := map[string]string{
		"/mid":     "/made/by/mid",                    // absolute, a middle component
		"/esc":     climb + host[1:] + "/esc",         // relative, climbing out
		"/trail":   "/../../../" + host[1:] + "/trail", // absolute, climbing out, the last component
		"/ftrail":  "../etc/ftrail-made",              // relative, a file bind's last component
		"/d/chain": "../chain2",                       // a dangling symlink to a dangling symlink
		"/chain2":  "/made/by/chain",
	}
	for l, target := range links {
		p := filepath.Join(b.Rootfs, l)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
	}
	src := t.TempDir()
	mustWrite(t, filepath.Join(src, "f"), "bound\n")
	bind := func(dst, source string) specs.Mount {
		return specs.Mount{Destination: dst, Type: "bind", Source: source, Options: []string{"bind", "ro"}}
	}
	b.Spec.Mounts = append(b.Spec.Mounts,
		bind("/mid/sub", src),
		bind("/esc/sub", src),
		bind("/trail", src),
		bind("/ftrail", filepath.Join(src, "f")),
		bind("/d/chain/x", src),
	)
	_, s := r.createStart(b)
	// where each destination lands, as the rootfs sees it
	want := map[string]string{
		"/mid/sub":   "/made/by/mid/sub",
		"/esc/sub":   host + "/esc/sub",
		"/trail":     host + "/trail",
		"/ftrail":    "/etc/ftrail-made",
		"/d/chain/x": "/made/by/chain/x",
	}
	ms := mountsOf(t, s.Pid)
	for dst, real := range want {
		if _, ok := topMount(ms, real); !ok {
			t.Errorf("%s: no mount at %s inside the container", dst, real)
		}
		file := filepath.Join(real, "f")
		if dst == "/ftrail" {
			file = real
		}
		if got := readFileString(inRoot(s.Pid, file)); got != "bound\n" {
			t.Errorf("%s: %s reads %q in the container, want the bind's file", dst, file, got)
		}
		if _, err := os.Lstat(filepath.Join(b.Rootfs, real)); err != nil {
			t.Errorf("%s: the mount point %s was not made in the rootfs: %v", dst, real, err)
		}
	}
	if ents, _ := os.ReadDir(host); len(ents) > 0 {
		t.Errorf("the runtime created %v on the host, outside the rootfs", ents)
	}
	for l, target := range links {
		if got, err := os.Readlink(filepath.Join(b.Rootfs, l)); err != nil || got != target {
			t.Errorf("symlink %s is now %q (%v), want it left pointing to %q", l, got, err, target)
		}
	}
}
