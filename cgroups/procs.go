package cgroups

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// pidsRecursive lists the processes in dir and every cgroup below it.
// A directory that vanished meanwhile (a sub-cgroup being removed) is not
// an error: its processes have moved or died.
func pidsRecursive(dir string) ([]int, error) {
	var out []int
	if err := walkPids(dir, &out); err != nil {
		return nil, err
	}
	return out, nil
}

func walkPids(dir string, out *[]int) error {
	s, err := readFile(dir, "cgroup.procs")
	if err != nil {
		if isNotExist(err) {
			return nil
		}
		return err
	}
	for _, f := range strings.Fields(s) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			return fmt.Errorf("parse pid %q in %s: %w", f, filepath.Join(dir, "cgroup.procs"), err)
		}
		*out = append(*out, pid)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		if os.IsNotExist(err) {
			return nil
		}
		return fmt.Errorf("list sub-cgroups of %s: %w", dir, err)
	}
	for _, e := range ents {
		if e.IsDir() {
			if err := walkPids(filepath.Join(dir, e.Name()), out); err != nil {
				return err
			}
		}
	}
	return nil
}
