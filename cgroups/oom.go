package cgroups

import "fmt"

// OOMKillCount on v2: memory.events counts OOM kills in the whole subtree.
func (m *fs2Manager) OOMKillCount() (uint64, error) {
	ev, err := readKeyed(m.dir, "memory.events")
	if err != nil {
		return 0, err
	}
	return ev["oom_kill"], nil
}

// OOMKillCount on v1: memory.oom_control has an oom_kill line (4.13+).
func (m *fsManager) OOMKillCount() (uint64, error) {
	dir, ok := m.paths["memory"]
	if !ok {
		return 0, fmt.Errorf("cgroup controller \"memory\" is not available: no OOM kill count")
	}
	ev, err := readKeyed(dir, "memory.oom_control")
	if err != nil {
		return 0, err
	}
	return ev["oom_kill"], nil
}
