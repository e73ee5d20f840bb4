package cgroups

import (
	"fmt"
	"path"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// fillCpuset gives a v1 cpuset cgroup, and every parent between it and the
// nearest one that has them, cpus and mems where they are empty, each from
// its parent, top down (as runc). v1 makes a cpuset cgroup empty (unless
// cgroup.clone_children is set), and a task can not join a cpuset with no
// CPUs (ENOSPC): a parent made by someone else with mkdir (an engine's pod
// cgroup) is left so.
func fillCpuset(dir string) error {
	var empty []string
	for d := dir; ; d = path.Dir(d) {
		cpus, mems, err := readCpuset(d)
		if err != nil {
			return err
		}
		if cpus != "" && mems != "" {
			break
		}
		if d == "/" {
			return fmt.Errorf("cpuset: no parent of %s has cpus and mems", dir)
		}
		empty = append(empty, d)
	}
	for i := len(empty) - 1; i >= 0; i-- {
		if err := copyCpuset(empty[i]); err != nil {
			return err
		}
	}
	return nil
}

func readCpuset(dir string) (cpus, mems string, err error) {
	if cpus, err = readFile(dir, "cpuset.cpus"); err != nil {
		return "", "", err
	}
	if mems, err = readFile(dir, "cpuset.mems"); err != nil {
		return "", "", err
	}
	return strings.TrimSpace(cpus), strings.TrimSpace(mems), nil
}

// copyCpuset fills dir's empty cpus and mems from its parent's.
func copyCpuset(dir string) error {
	cpus, mems, err := readCpuset(dir)
	if err != nil {
		return err
	}
	pcpus, pmems, err := readCpuset(path.Dir(dir))
	if err != nil {
		return err
	}
	if cpus == "" {
		if err := writeFile(dir, "cpuset.cpus", pcpus); err != nil {
			return err
		}
	}
	if mems == "" {
		if err := writeFile(dir, "cpuset.mems", pmems); err != nil {
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
