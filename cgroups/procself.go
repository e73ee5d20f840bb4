package cgroups

import (
	"fmt"
	"os"
	"strings"
)

// ownCgroups maps each hierarchy to the cgroup a process is in, from
// /proc/<pid>/cgroup ("id:controllers:path" per line). v1 controller names
// are keys ("cpu", "memory", "name=systemd", ...); co-mounted controllers
// ("cpu,cpuacct") get one key each; the cgroup2 line ("0::/x") is key "".
type ownCgroups map[string]string

func readOwnCgroups(pid string) (ownCgroups, error) {
	file := "/proc/" + pid + "/cgroup"
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read own cgroup: %w", err)
	}
	return parseProcCgroup(string(data))
}

func parseProcCgroup(data string) (ownCgroups, error) {
	out := ownCgroups{}
	for _, line := range strings.Split(data, "\n") {
		if line == "" {
			continue
		}
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			return nil, fmt.Errorf("parse /proc/self/cgroup line %q: want id:controllers:path", line)
		}
		if parts[1] == "" {
			out[""] = parts[2]
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			out[c] = parts[2]
		}
	}
	return out, nil
}
