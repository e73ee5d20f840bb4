package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/casco-runtime/casco/tests/internal/harness"
)

// TestCreateErrors: create refuses bad input with a non-zero exit and a
// stderr that names the problem, and leaves nothing behind: no state dir,
// nothing in list, no cgroup, no process, no host mount. Keywords are what
// an engine's user must be able to recognise, not runc's exact words.
func TestCreateErrors(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 1025)
	cases := []struct {
		name     string
		id       string // "" keeps the generated id; "<empty>" passes ""
		setup    func(t *testing.T, b *bundle)
		keywords []string
	}{
		{name: "id-dotdot-slash", id: "../x", keywords: []string{"container id", "../x"}},
		{name: "id-slash", id: "a/b", keywords: []string{"container id", "a/b"}},
		{name: "id-dotdot", id: "..", keywords: []string{"container id"}},
		{name: "id-dot", id: ".", keywords: []string{"container id"}},
		{name: "id-empty", id: "<empty>", keywords: []string{"container id", "empty"}},
		{name: "id-1025-chars", id: long, keywords: []string{"container id", "too long", long}},
		{
			name:     "missing-config",
			setup:    func(t *testing.T, b *bundle) { os.Remove(filepath.Join(b.Dir, "config.json")) },
			keywords: []string{"config.json"},
		},
		{
			// runc says only "unexpected EOF"; a good runtime names config.json.
			name: "truncated-json",
			setup: func(t *testing.T, b *bundle) {
				mustWrite(t, filepath.Join(b.Dir, "config.json"), `{"ociVersion": "1.0.2", "process": {`)
			},
			keywords: []string{"config.json", "json", "unexpected EOF"},
		},
		{
			name:     "json-wrong-type",
			setup:    func(t *testing.T, b *bundle) { mustWrite(t, filepath.Join(b.Dir, "config.json"), `{"ociVersion": 1}`) },
			keywords: []string{"config.json", "json", "ociVersion"},
		},
		{
			name:     "missing-rootfs",
			setup:    func(t *testing.T, b *bundle) { os.RemoveAll(b.Rootfs) },
			keywords: []string{"rootfs"},
		},
		{
			name: "rootfs-is-a-file",
			setup: func(t *testing.T, b *bundle) {
				os.RemoveAll(b.Rootfs)
				mustWrite(t, b.Rootfs, "not a directory\n")
			},
			keywords: []string{"rootfs", "not a directory"},
		},
		{
			name: "unknown-namespace",
			setup: func(t *testing.T, b *bundle) {
				b.Spec.Linux.Namespaces = append(b.Spec.Linux.Namespaces, specs.LinuxNamespace{Type: "foo"})
				b.save(t)
			},
			keywords: []string{"namespace"},
		},
		{
			name: "no-args",
			setup: func(t *testing.T, b *bundle) {
				b.Spec.Process.Args = nil
				b.save(t)
			},
			keywords: []string{"args"},
		},
		{
			name: "missing-bundle",
			setup: func(t *testing.T, b *bundle) {
				os.RemoveAll(b.Dir)
			},
			keywords: []string{"no such file", "bundle", "not exist"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newRuntime(t)
			b := newBundle(t, sleeper...)
			id := newID(t)
			cg := "casco-test-" + id
			b.Spec.Linux.CgroupsPath = cg
			b.save(t)
			switch tc.id {
			case "":
			case "<empty>":
				id = ""
			default:
				id = tc.id
			}
			if tc.setup != nil {
				tc.setup(t, b)
			}
			if tc.id == "" {
				r.trackCleanup(id)
			}
			res := r.mustFail(tc.keywords, "create", "--bundle", b.Dir, id)
			t.Logf("stderr: %.300s", strings.TrimSpace(res.Stderr))
			if strings.TrimSpace(res.Stdout) != "" {
				t.Errorf("a failed create printed to stdout: %q", res.Stdout)
			}
			noLeftovers(t, r, b, id, cg)
			// Nothing was made next to the root through a crafted id.
			if _, err := os.Lstat(filepath.Join(filepath.Dir(r.root), "x")); err == nil {
				t.Errorf("create %q made %s", id, filepath.Join(filepath.Dir(r.root), "x"))
			}
		})
	}
}

// TestCreateDuplicate: a second create with a live id fails and leaves the
// first container as it was.
func TestCreateDuplicate(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	c := r.create(newBundle(t, sleeper...))
	s := r.mustState(c.ID)
	b2 := newBundle(t, sleeper...)
	b2.save(t)
	res := r.mustFail([]string{"exists", c.ID}, "create", "--bundle", b2.Dir, c.ID)
	t.Logf("stderr: %s", strings.TrimSpace(res.Stderr))
	s2 := r.mustState(c.ID)
	if s2.Pid != s.Pid || s2.Status != "created" || s2.Bundle != c.B.Dir || !harness.Alive(s.Pid) {
		t.Errorf("the duplicate create disturbed the first container: %+v, was %+v", s2, s)
	}
}

// TestCommandErrors: commands on ids that do not exist, and usage errors.
func TestCommandErrors(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	for _, args := range [][]string{
		{"start", "ct-nope"},
		{"kill", "ct-nope"},
		{"delete", "ct-nope"},
		{"state", "ct-nope"},
	} {
		r.mustFail([]string{"not exist", "ct-nope"}, args...)
	}
	for _, args := range [][]string{
		{"create"},          // no id
		{"state"},           // no id
		{"start"},           // no id
		{"kill"},            // no id
		{"state", "a", "b"}, // too many
	} {
		r.mustFail(nil, args...)
	}
	if e := r.entries(); len(e) != 0 {
		t.Errorf("failed commands left %q in the root", e)
	}
}
