package cgroups

import "fmt"

func (m *fsManager) Stats() (*Stats, error) {
	return nil, fmt.Errorf("cgroup v1 stats: not implemented yet")
}
