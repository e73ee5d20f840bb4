package cgroups

import (
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// needPids: a limit of 0 means "unset", as in runc (the spec's zero value
// would otherwise forbid every fork).
func needPids(r *specs.LinuxResources) bool {
	return r.Pids != nil && r.Pids.Limit != nil && *r.Pids.Limit != 0
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
