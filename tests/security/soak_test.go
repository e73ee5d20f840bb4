//go:build soak

package security

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// hostFigures is what a leak would make grow: the host's open files, its
// mounts, its cgroup directories, the runtime's state entries.
type hostFigures struct {
	files, mounts, cgroups, state int
	ours                          int // fds of any process on the run's files, mounts under them
}

func measure(root string) hostFigures {
	var h hostFigures
	if data, err := os.ReadFile("/proc/sys/fs/file-nr"); err == nil {
		h.files, _ = strconv.Atoi(strings.Fields(string(data))[0])
	}
	h.mounts = len(mounts("/proc/self/mountinfo"))
	filepath.WalkDir("/sys/fs/cgroup", func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			h.cgroups++
		}
		return nil
	})
	ents, _ := os.ReadDir(root)
	h.state = len(ents)
	procs, _ := os.ReadDir("/proc")
	for _, p := range procs {
		if pid, err := strconv.Atoi(p.Name()); err == nil && pid != os.Getpid() {
			for _, target := range fdsOf(pid) {
				if strings.HasPrefix(target, topDir) {
					h.ours++
				}
			}
		}
	}
	for _, m := range mounts("/proc/self/mountinfo") {
		if strings.HasPrefix(m.Point, topDir) {
			h.ours++
		}
	}
	return h
}

// TestSoak (make soak): 1,000 lifecycles, alternating create/start/
// kill/delete and run; the host's open files, mounts and cgroups and the
// runtime's state stay flat. The host is shared with other work, so the
// host-wide figures may move a little either way; a leak of one item per
// lifecycle would add a thousand.
func TestSoak(t *testing.T) {
	n := 1000
	if s := os.Getenv("SOAK_N"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	r := newRT(t)
	b := newBundle(t, "sh", "-c", "exit 0")
	b.Spec.Linux.CgroupsPath = ""
	b.save(t)
	lb := newBundle(t, "sleep", "1000")
	lb.Spec.Linux.CgroupsPath = ""
	lb.save(t)
	lifecycle := func(i int) {
		id := fmt.Sprintf("sec-%s-soak-%d", tag, i)
		if i%2 == 0 {
			if out := r.run("run", "--bundle", b.Dir, id); !out.ok() {
				t.Fatalf("lifecycle %d: run: %s", i, out)
			}
			return
		}
		for _, args := range [][]string{{"create", "--bundle", lb.Dir, id}, {"start", id}, {"kill", id, "KILL"}, {"delete", "--force", id}} {
			if out := r.run(args...); !out.ok() {
				t.Fatalf("lifecycle %d: %s: %s", i, args[0], out)
			}
		}
	}
	warm := 50
	for i := 0; i < warm; i++ {
		lifecycle(i)
	}
	before, t0 := measure(r.root), time.Now()
	for i := warm; i < warm+n; i++ {
		lifecycle(i)
		if (i-warm+1)%250 == 0 {
			t.Logf("%d lifecycles: %+v", i-warm+1, measure(r.root))
		}
	}
	elapsed := time.Since(t0)
	after := measure(r.root)
	t.Logf("SOAK %d lifecycles in %v (%.1f ms each); before %+v; after %+v", n, elapsed.Round(time.Second), float64(elapsed.Milliseconds())/float64(n), before, after)
	// other helpers' work moves the host-wide figures by a few hundred
	// either way; a leak of one item per lifecycle adds n
	slack := n / 4
	if after.state != 0 || after.ours != 0 {
		t.Errorf("%d state entries and %d fds or mounts on the run's files left", after.state, after.ours)
	}
	if d := after.files - before.files; d > slack {
		t.Errorf("open files grew by %d over %d lifecycles", d, n)
	}
	if d := after.mounts - before.mounts; d > slack {
		t.Errorf("mounts grew by %d over %d lifecycles", d, n)
	}
	if d := after.cgroups - before.cgroups; d > slack {
		t.Errorf("cgroup directories grew by %d over %d lifecycles", d, n)
	}
}
