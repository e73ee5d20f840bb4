package main

import (
	"fmt"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// scaleStep: the cost of `list`, `state` and `create` as containers pile
// up under one root (a node after a reboot, podman listing a busy host).
// The containers are `create`d and never started: their init waits on
// the exec fifo, the cheapest container a runtime keeps. The curve is
// measured once (round 1): filling a root to 1,000 takes a while.
var scaleCmds = []string{"list", "state", "create"}

func scaleStep() step {
	return step{name: "scale", once: true, run: (*bench).scale, rowsFor: func(b *bench) []*row {
		var rows []*row
		for _, c := range scaleCmds {
			for _, l := range b.levels {
				rows = append(rows, &row{key: scaleKey(c, l), title: fmt.Sprintf("`%s`, %d containers under the root", c, l),
					unit: "ms", group: "scale", rss: c == "list"})
			}
		}
		return rows
	}}
}

func scaleKey(cmd string, level int) string { return "scale-" + cmd + "-" + strconv.Itoa(level) }

func (b *bench) scale(r *rt, round int) (map[string][]float64, error) {
	out := map[string][]float64{}
	var ids []string
	var err error
	r.w.do(func() {
		defer func() { b.emptyRoot(r, ids) }()
		fill := time.Now()
		for _, level := range b.levels {
			for len(ids) < level {
				id := b.id(round, "scale", r, len(ids))
				if _, err = r.w.cmd("create", "--bundle", b.bundle("run"), id); err != nil {
					return
				}
				ids = append(ids, id)
			}
			r.notes = append(r.notes, fmt.Sprintf("cost curves: %d containers created after %.1f s", level, time.Since(fill).Seconds()))
			for i := 0; i < b.scaleK; i++ {
				var d time.Duration
				if d, err = r.w.cmd("list"); err != nil {
					return
				}
				sample(out, scaleKey("list", level), d, r.w)
				if d, err = r.w.cmd("state", ids[i*len(ids)/b.scaleK]); err != nil {
					return
				}
				sample(out, scaleKey("state", level), d, r.w)
				id := b.id(round, "scalenew", r, i)
				if d, err = r.w.cmd("create", "--bundle", b.bundle("run"), id); err != nil {
					return
				}
				sample(out, scaleKey("create", level), d, r.w)
				if _, err = r.w.cmd("delete", "--force", id); err != nil {
					return
				}
				reapAll()
			}
		}
	})
	return out, err
}

// emptyRoot deletes the created containers (delete --force kills their
// inits) and reaps the inits, which came to the driver, the subreaper.
func (b *bench) emptyRoot(r *rt, ids []string) {
	for _, id := range ids {
		if _, err := r.w.exec(r.Bin, "--root", r.Root, "delete", "--force", id); err != nil {
			r.notes = append(r.notes, fmt.Sprintf("cost curves: %v", err))
		}
	}
	reapAll()
}

// reapAll reaps every exited child without blocking. Only called from a
// worker between two commands of a step that runs alone, so no command
// the driver is waiting for can be taken from os/exec.
func reapAll() {
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if err == unix.EINTR {
			continue
		}
		if pid <= 0 || err != nil {
			return
		}
	}
}
