package cgroups

import (
	"strconv"
	"strings"
)

// readKeyed parses a flat keyed file ("key value" per line), as
// memory.stat, cpu.stat, memory.events and cgroup.events are. Values that
// are not numbers are skipped.
func readKeyed(dir, file string) (map[string]uint64, error) {
	s, err := readFile(dir, file)
	if err != nil {
		return nil, err
	}
	out := map[string]uint64{}
	for _, line := range strings.Split(s, "\n") {
		k, v, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		if n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64); err == nil {
			out[k] = n
		}
	}
	return out, nil
}
