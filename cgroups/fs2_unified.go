package cgroups

import (
	"fmt"
	"path"
	"sort"
	"strings"
)

// setUnifiedV2 writes linux.resources.unified: raw cgroup2 "file: value"
// pairs. Keys are checked first — a plain file name, and a controller file
// only of a controller enabled for this cgroup — so a typo fails with a
// clear message and nothing is written outside the cgroup directory.
func setUnifiedV2(dir string, unified map[string]string) error {
	keys := make([]string, 0, len(unified))
	for k := range unified {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var enabled map[string]bool
	for _, k := range keys {
		if k == "" || k == "." || k == ".." || strings.ContainsAny(k, "/\x00") {
			return fmt.Errorf("linux.resources.unified: invalid key %q", k)
		}
		ctrl, _, ok := strings.Cut(k, ".")
		if !ok || ctrl == "" {
			return fmt.Errorf("linux.resources.unified: key %q is not a cgroup file name (controller.file)", k)
		}
		if k == "cgroup.procs" || k == "cgroup.threads" {
			// a pid written there moves a process of the host into the
			// container's cgroup: membership is not a resource
			return fmt.Errorf("linux.resources.unified: key %q moves processes into the cgroup: refused", k)
		}
		if ctrl == "cgroup" {
			continue
		}
		if enabled == nil {
			var err error
			if enabled, err = availableControllers(dir); err != nil {
				return err
			}
		}
		if !enabled[ctrl] {
			return fmt.Errorf("linux.resources.unified: key %q needs controller %q, which is not enabled for cgroup %s", k, ctrl, dir)
		}
	}
	for _, k := range keys {
		if err := writeFile(dir, k, unified[k]); err != nil {
			return err
		}
	}
	return nil
}

// parentDir is path.Dir for cgroup dirs (kept here to avoid importing path twice).
func parentDir(dir string) string { return path.Dir(dir) }

// availableControllers reads a cgroup2 dir's cgroup.controllers: the
// controllers its parent enabled for it.
func availableControllers(dir string) (map[string]bool, error) {
	s, err := readFile(dir, "cgroup.controllers")
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, c := range strings.Fields(s) {
		out[c] = true
	}
	return out, nil
}
