package cgroups

import (
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// needPids: a limit is written only when given; no limit at all leaves
// pids.max alone (runc 1.4 too).
func needPids(r *specs.LinuxResources) bool {
	return r.Pids != nil && r.Pids.Limit != nil
}

// pidsMax maps the spec value to pids.max: negative is unlimited, and 0
// is 1, as runc 1.5 writes it with every driver (systemd refuses a
// TasksMax of 0; the one process allowed is the container's own init).
func pidsMax(limit int64) string {
	switch {
	case limit < 0:
		return "max"
	case limit == 0:
		return "1"
	}
	return strconv.FormatInt(limit, 10)
}

// setPidsV1 writes pids.max (the same file on v2).
func setPidsV1(dir string, r *specs.LinuxResources) error {
	return writeFile(dir, "pids.max", pidsMax(*r.Pids.Limit))
}
