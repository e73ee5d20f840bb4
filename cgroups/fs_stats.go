package cgroups

import "fmt"

func (m *fsManager) Stats() (*Stats, error) {
	return nil, fmt.Errorf("cgroup v1 stats: not implemented yet")
}

func (m *fsManager) OOMKillCount() (uint64, error) {
	return 0, fmt.Errorf("cgroup v1 oom kill count: not implemented yet")
}
