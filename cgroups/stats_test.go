package cgroups

import (
	"encoding/json"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestStats(t *testing.T) {
	m := newCreated(t)
	limit := int64(256 << 20)
	if err := m.Set(&specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: &limit},
		Pids:   &specs.LinuxPids{Limit: i64p(42)},
	}); err != nil {
		t.Fatal(err)
	}
	h := startHelper(t, "spin", nil)
	if err := m.Add(h.cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	h.stdin.Write([]byte("go\n"))
	waitExit(t, h.cmd)
	sleeper := startSleep(t)
	if err := m.Add(sleeper.Process.Pid); err != nil {
		t.Fatal(err)
	}
	s, err := m.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if s.Pids.Current != 1 || s.Pids.Limit != 42 {
		t.Errorf("pids = %+v, want current 1 limit 42", s.Pids)
	}
	if s.Memory.Usage.Limit != uint64(limit) {
		t.Errorf("memory limit = %d, want %d", s.Memory.Usage.Limit, limit)
	}
	if s.CPU.Usage.Total < 50e6 {
		t.Errorf("cpu usage total = %dns after spinning 200ms", s.CPU.Usage.Total)
	}
	if len(s.Memory.Raw) == 0 {
		t.Error("memory.stat raw values missing")
	}
	if len(s.CPUSet.CPUs) == 0 {
		t.Error("cpuset cpus missing")
	}
	js, _ := json.Marshal(s)
	for _, key := range []string{`"cpu":{"usage":{"total":`, `"memory":{`, `"pids":{"current":1,"limit":42}`, `"hugetlb":`} {
		if !strings.Contains(string(js), key) {
			t.Errorf("stats JSON lacks %s: %s", key, js)
		}
	}
}

func TestOOMKillCount(t *testing.T) {
	m := newCreated(t)
	limit := int64(16 << 20)
	mem := &specs.LinuxMemory{Limit: &limit}
	p := m.Paths()
	if fileExists(p["memory"], v1MemSwap) || fileExists(p[""], "memory.swap.max") {
		mem.Swap = &limit // no swap to escape into
	}
	if err := m.Set(&specs.LinuxResources{Memory: mem}); err != nil {
		t.Fatal(err)
	}
	if n, err := m.OOMKillCount(); err != nil || n != 0 {
		t.Fatalf("OOMKillCount before = %d, %v", n, err)
	}
	h := startHelper(t, "alloc:64", nil)
	if err := m.Add(h.cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	h.stdin.Write([]byte("go\n"))
	waitExit(t, h.cmd)
	n, err := m.OOMKillCount()
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("OOMKillCount = %d after a 64M allocation under a 16M limit (helper: %v, %q)", n, h.cmd.ProcessState, h.out.String())
	}
}
