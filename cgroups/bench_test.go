package cgroups

import (
	"fmt"
	"os"
	"path"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// BenchmarkLifecycle measures what a container start and delete cost in
// this package: New, Create, a typical Set (memory, cpu, pids, default
// devices), Destroy.
func BenchmarkLifecycle(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root")
	}
	limit := int64(256 << 20)
	r := &specs.LinuxResources{
		Memory:  &specs.LinuxMemory{Limit: &limit},
		CPU:     &specs.LinuxCPU{Shares: u64p(512), Quota: i64p(50000), Period: u64p(100000)},
		Pids:    &specs.LinuxPids{Limit: i64p(100)},
		Devices: DeviceRules(nil),
	}
	for i := 0; i < b.N; i++ {
		m, err := New(fmt.Sprintf("/casco-test-bench-%d-%d", os.Getpid(), i), "", Options{})
		if err != nil {
			b.Fatal(err)
		}
		if err := m.Create(); err != nil {
			b.Fatal(err)
		}
		if err := m.Set(r); err != nil {
			m.Destroy()
			b.Fatal(err)
		}
		if err := m.Destroy(); err != nil {
			b.Fatal(err)
		}
	}
}

// TestDefaultPath: no cgroupsPath puts the container at
// "<caller's cgroup>/<id>" in every hierarchy (the parent of it on the
// cgroup2 side, which holds processes).
func TestDefaultPath(t *testing.T) {
	requireRoot(t)
	id := fmt.Sprintf("casco-test-default-%d", os.Getpid())
	m, err := New("", id, Options{})
	if err != nil {
		t.Fatal(err)
	}
	own, err := readOwnCgroups("self")
	if err != nil {
		t.Fatal(err)
	}
	for ctrl, dir := range m.Paths() {
		want := "/" + id
		o := own[ctrl]
		if ctrl == "" {
			o = path.Dir(path.Join("/", o))
		}
		if o != "/" {
			want = o + want
		}
		if len(dir) < len(want) || dir[len(dir)-len(want):] != want {
			t.Errorf("%q path %s does not end in %s", ctrl, dir, want)
		}
	}
	t.Cleanup(func() { m.Destroy() })
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	if _, err := New("", "../x", Options{}); err == nil {
		t.Error("id ../x accepted for a default path")
	}
}
