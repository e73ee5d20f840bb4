package cgroups

import (
	"path"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// copyCpusetFromParent fills a new v1 cpuset cgroup's cpus and mems from
// its parent: v1 creates them empty (unless cgroup.clone_children is set)
// and a task can not join a cpuset with no CPUs (ENOSPC).
func copyCpusetFromParent(dir string) error {
	parent := path.Dir(dir)
	for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
		v, err := readFile(parent, f)
		if err != nil {
			return err
		}
		v = strings.TrimSpace(v)
		if v == "" {
			continue
		}
		if err := writeFile(dir, f, v); err != nil {
			return err
		}
	}
	return nil
}

func needCpuset(r *specs.LinuxResources) bool {
	return r.CPU != nil && (r.CPU.Cpus != "" || r.CPU.Mems != "")
}

// setCpusetV1 writes cpus and mems; the file names are the same on v2.
func setCpusetV1(dir string, r *specs.LinuxResources) error {
	if r.CPU.Cpus != "" {
		if err := writeFile(dir, "cpuset.cpus", r.CPU.Cpus); err != nil {
			return err
		}
	}
	if r.CPU.Mems != "" {
		if err := writeFile(dir, "cpuset.mems", r.CPU.Mems); err != nil {
			return err
		}
	}
	return nil
}
