package cgroups

import "fmt"

func (m *fs2Manager) Stats() (*Stats, error) {
	return nil, fmt.Errorf("cgroup v2 stats: not implemented yet")
}
