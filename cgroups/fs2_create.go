package cgroups

import (
	"fmt"
	"path"
	"strings"
)

// createV2 makes a cgroup2 directory below root and enables, at every
// level from root down to dir's parent, each controller that level has
// available — so the leaf can use them all (runc enables all too). A
// level whose cgroup.subtree_control already lists them is not written.
// It reports whether dir already existed.
func createV2(root, dir string) (existed bool, err error) {
	rel := strings.TrimPrefix(dir, root)
	if rel == dir || rel == "" || rel == "/" {
		return false, fmt.Errorf("cgroup %s is not below %s", dir, root)
	}
	parts := strings.Split(strings.Trim(rel, "/"), "/")
	cur := root
	for _, p := range parts {
		if cur != root && hasProcesses(cur) {
			// enabling controllers here would leave the new child "domain
			// invalid" and change a cgroup that isn't ours: refuse clearly
			return false, fmt.Errorf("cgroup %s has processes, so %s below it cannot get controllers (cgroup v2 has no internal processes): choose a linux.cgroupsPath beside it", cur, dir)
		}
		if err := enableSubtree(cur); err != nil {
			return false, err
		}
		cur = path.Join(cur, p)
		existed, err = mkdirCgroup(cur, nil)
		if err != nil {
			return false, err
		}
	}
	return existed, nil
}

// enableSubtree writes "+a +b ..." for every available controller not yet
// in dir's cgroup.subtree_control, in one write. If the kernel refuses the
// batch (e.g. a threaded subtree, or cpu with RT tasks in it) it retries
// one by one and keeps what works, so one stubborn controller does not
// cost the rest; Set then reports the missing one if it is really needed.
func enableSubtree(dir string) error {
	avail, err := readFile(dir, "cgroup.controllers")
	if err != nil {
		return err
	}
	cur, err := readFile(dir, "cgroup.subtree_control")
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, c := range strings.Fields(cur) {
		have[c] = true
	}
	var want []string
	for _, c := range strings.Fields(avail) {
		if !have[c] {
			want = append(want, "+"+c)
		}
	}
	if len(want) == 0 {
		return nil
	}
	if err := writeFile(dir, "cgroup.subtree_control", strings.Join(want, " ")); err == nil {
		return nil
	}
	for _, c := range want {
		_ = writeFile(dir, "cgroup.subtree_control", c)
	}
	return nil
}

// hasProcesses reports whether dir's cgroup.procs lists any process.
func hasProcesses(dir string) bool {
	procs, err := readFile(dir, "cgroup.procs")
	return err == nil && strings.TrimSpace(procs) != ""
}
