package libcontainer

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// subCgroupPaths applies `exec --cgroup` to the container's cgroup paths,
// as runc: "path" puts the process into path below the container's cgroup
// in every hierarchy, "ctrl[,ctrl]:path" in those controllers' only. A path
// may not leave the container's cgroup, and must exist (the process joins,
// it never creates). The unified side of a hybrid host is moved only where
// the sub-cgroup exists there too.
func subCgroupPaths(paths map[string]string, args []string) (map[string]string, error) {
	out := maps.Clone(paths)
	hybrid := len(paths) > 1
	for _, arg := range args {
		ctrls, sub, ok := strings.Cut(arg, ":")
		if !ok {
			ctrls, sub = "", arg
		}
		var keys []string
		if ctrls == "" {
			for k := range paths {
				keys = append(keys, k)
			}
			sort.Strings(keys)
		} else {
			for _, c := range strings.Split(ctrls, ",") {
				if _, ok := paths[c]; !ok {
					return nil, fmt.Errorf("--cgroup %q: unknown controller %q", arg, c)
				}
				keys = append(keys, c)
			}
		}
		for _, k := range keys {
			base := paths[k]
			dir := filepath.Join(base, sub)
			if dir != base && !strings.HasPrefix(dir, base+"/") {
				return nil, fmt.Errorf("--cgroup %q: bad sub cgroup path: %s", arg, sub)
			}
			if _, err := os.Stat(dir); err != nil {
				if k == "" && hybrid && ctrls == "" {
					continue // the v1 hierarchies hold the limits on a hybrid host
				}
				return nil, fmt.Errorf("--cgroup %q: adding pid to cgroup %s: %w", arg, dir, err)
			}
			out[k] = dir
		}
	}
	return out, nil
}
