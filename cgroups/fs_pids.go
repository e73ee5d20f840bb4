package cgroups

import (
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// needPids: runtime-spec 1.3 gives 0 its kernel meaning (no new process),
// -1 is "max", and no limit at all leaves pids.max alone (runc 1.4 too).
func needPids(r *specs.LinuxResources) bool {
	return r.Pids != nil && r.Pids.Limit != nil
}

// pidsMax maps the spec value to pids.max: negative is unlimited.
func pidsMax(limit int64) string {
	if limit < 0 {
		return "max"
	}
	return strconv.FormatInt(limit, 10)
}

// setPidsV1 writes pids.max (the same file on v2).
func setPidsV1(dir string, r *specs.LinuxResources) error {
	return writeFile(dir, "pids.max", pidsMax(*r.Pids.Limit))
}
