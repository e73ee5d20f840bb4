package seccomp

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func cacheFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*.bpf"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func cacheTestProfile(t *testing.T) *specs.LinuxSeccomp {
	if runtime.GOARCH == "amd64" {
		if _, err := os.Stat(podmanProfile); err == nil {
			return loadPodmanProfile(t)
		}
	}
	return &specs.LinuxSeccomp{
		DefaultAction: specs.ActErrno,
		Syscalls:      []specs.LinuxSyscall{harness(), {Names: []string{"getpid"}, Action: specs.ActAllow}},
	}
}

func TestCacheHitAndCorruption(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "seccomp-cache")
	cfg := cacheTestProfile(t)

	start := time.Now()
	cold, err := CompileCached(cfg, dir)
	if err != nil {
		t.Fatal(err)
	}
	coldTime := time.Since(start)
	files := cacheFiles(t, dir)
	if len(files) != 1 {
		t.Fatalf("cache holds %v, want one entry", files)
	}
	st, _ := os.Stat(dir)
	if st.Mode().Perm() != 0o700 {
		t.Errorf("cache dir mode %v, want 0700", st.Mode().Perm())
	}

	start = time.Now()
	hit, err := CompileCached(cfg, dir)
	if err != nil {
		t.Fatal(err)
	}
	hitTime := time.Since(start)
	t.Logf("%d rules: cold %v, cached %v", len(cfg.Syscalls), coldTime, hitTime)
	if !bytes.Equal(cold.Program, hit.Program) || cold.Flags != hit.Flags || cold.Notify != hit.Notify {
		t.Fatal("cached filter differs from the compiled one")
	}
	direct := mustCompile(t, cfg)
	if !bytes.Equal(direct.Program, hit.Program) {
		t.Fatal("cached program differs from Compile's")
	}

	// Prove the hit came from the file: plant a different, valid program
	// under the same key and see it returned.
	key, _ := cacheKey(cfg)
	other := mustCompile(t, &specs.LinuxSeccomp{DefaultAction: specs.ActAllow})
	if err := writeCacheFile(dir, files[0], key, other.Program); err != nil {
		t.Fatal(err)
	}
	got, err := CompileCached(cfg, dir)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Program, other.Program) {
		t.Fatal("CompileCached did not use the cache file")
	}

	if err := writeCacheFile(dir, files[0], key, cold.Program); err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		name    string
		corrupt func([]byte) []byte
	}{
		{"flipped program byte", func(b []byte) []byte { b[len(b)-3] ^= 0x40; return b }},
		{"truncated", func(b []byte) []byte { return b[:len(b)-8] }},
		{"extra instruction", func(b []byte) []byte { return append(b, 6, 0, 0, 0, 0, 0, 0xff, 0x7f) }},
		{"header only", func(b []byte) []byte { return b[:cacheHeaderLen] }},
		{"empty", func(b []byte) []byte { return nil }},
		{"bad magic", func(b []byte) []byte { b[0] = 'X'; return b }},
		{"other format", func(b []byte) []byte { b[8]++; return b }},
		{"other key", func(b []byte) []byte { b[20] ^= 1; return b }},
		{"length lies", func(b []byte) []byte { b[12] += 8; return b }},
	} {
		t.Run(c.name, func(t *testing.T) {
			bad := c.corrupt(slices.Clone(good))
			if err := os.WriteFile(files[0], bad, 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := readCacheFile(files[0], key); err == nil {
				t.Fatal("corrupt entry accepted")
			}
			f, err := CompileCached(cfg, dir)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(f.Program, cold.Program) {
				t.Fatal("corrupt entry used")
			}
			// ...and rewritten.
			if b, _ := os.ReadFile(files[0]); !bytes.Equal(b, good) {
				t.Fatal("corrupt entry not rewritten")
			}
		})
	}
	if left := cacheFiles(t, dir); len(left) != 1 {
		t.Errorf("cache holds %v after rewrites, want one entry", left)
	}
	tmps, _ := filepath.Glob(filepath.Join(dir, ".tmp-*"))
	if len(tmps) != 0 {
		t.Errorf("temporary files left: %v", tmps)
	}
}

func TestCacheKey(t *testing.T) {
	base := &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Syscalls: []specs.LinuxSyscall{{Names: []string{"getpid"}, Action: specs.ActAllow}}}
	k0, _ := cacheKey(base)

	same := *base
	same.ListenerPath, same.ListenerMetadata = "/run/agent.sock", "meta"
	if k, _ := cacheKey(&same); k != k0 {
		t.Error("listenerPath changes the key, but not the program")
	}
	// Round trip through JSON: the key is canonical.
	var rt specs.LinuxSeccomp
	j, _ := json.Marshal(base)
	_ = json.Unmarshal(j, &rt)
	if k, _ := cacheKey(&rt); k != k0 {
		t.Error("JSON round trip changes the key")
	}
	for _, mod := range []func(c *specs.LinuxSeccomp){
		func(c *specs.LinuxSeccomp) { c.DefaultErrnoRet = uptr(1) },
		func(c *specs.LinuxSeccomp) { c.Architectures = []specs.Arch{specs.ArchX86} },
		func(c *specs.LinuxSeccomp) {
			c.Syscalls = append(c.Syscalls, specs.LinuxSyscall{Names: []string{"mkdir"}, Action: specs.ActAllow})
		},
		func(c *specs.LinuxSeccomp) {
			c.Syscalls = []specs.LinuxSyscall{{Names: []string{"getpid"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{{Index: 0, Value: 1, Op: specs.OpEqualTo}}}}
		},
	} {
		c := *base
		c.Syscalls = slices.Clone(base.Syscalls)
		mod(&c)
		if k, _ := cacheKey(&c); k == k0 {
			t.Errorf("profile change does not change the key: %+v", c)
		}
	}
}

// A cache directory others can write is not trusted: it works, but as Compile.
func TestCacheUntrustedDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "c")
	if err := os.Mkdir(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	f, err := CompileCached(&specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdir"}, Action: specs.ActErrno}}}, dir)
	if err != nil || f == nil {
		t.Fatal(err)
	}
	if files := cacheFiles(t, dir); len(files) != 0 {
		t.Errorf("wrote %v into a world-writable directory", files)
	}
}

// Bad profiles fail the same way with the cache, and are never cached.
func TestCacheBadProfile(t *testing.T) {
	dir := t.TempDir()
	_, err := CompileCached(&specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdir"}, Action: "SCMP_ACT_FOO"}}}, dir)
	if err == nil || err.Error() != `seccomp: syscalls[0] ("mkdir"): unknown action "SCMP_ACT_FOO"` {
		t.Fatalf("got %v", err)
	}
	if files := cacheFiles(t, dir); len(files) != 0 {
		t.Errorf("cached a failed compile: %v", files)
	}
}

// The cached program works in the kernel like a fresh one.
func TestCachedProgramLoads(t *testing.T) {
	dir := t.TempDir()
	cfg := &specs.LinuxSeccomp{
		DefaultAction: specs.ActErrno,
		Syscalls:      []specs.LinuxSyscall{harness(), {Names: []string{"getpid"}, Action: specs.ActAllow}},
	}
	if _, err := CompileCached(cfg, dir); err != nil {
		t.Fatal(err)
	}
	f, err := CompileCached(cfg, dir)
	if err != nil {
		t.Fatal(err)
	}
	res := runProbes(t, f, sys(unix.SYS_GETPID), sys(unix.SYS_GETPPID), sys(unix.SYS_CLONE3, 0, 0))
	if res[0].Errno != 0 || res[1].Errno != unix.EPERM || res[2].Errno != unix.ENOSYS {
		t.Errorf("got %v %v %v, want ok EPERM ENOSYS", res[0].Errno, res[1].Errno, res[2].Errno)
	}
}

func BenchmarkPodmanCompile(b *testing.B) {
	cfg := podmanOrSkip(b)
	for b.Loop() {
		if _, err := Compile(cfg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPodmanCompileCached(b *testing.B) {
	cfg := podmanOrSkip(b)
	dir := b.TempDir()
	if _, err := CompileCached(cfg, dir); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := CompileCached(cfg, dir); err != nil {
			b.Fatal(err)
		}
	}
}

func podmanOrSkip(b *testing.B) *specs.LinuxSeccomp {
	if runtime.GOARCH != "amd64" {
		b.Skip("amd64 only")
	}
	return loadPodmanProfile(b)
}
