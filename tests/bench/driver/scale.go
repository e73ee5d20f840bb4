package main

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
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
	defer func() { b.emptyRoot(r, ids) }()
	fill := time.Now()
	for _, level := range b.levels {
		var more []string
		for i := len(ids); i < level; i++ {
			more = append(more, b.id(round, "scale", r, i))
		}
		made, ferr := b.onAllLoops(r, more, "create", "--bundle", b.bundle("run"))
		ids = append(ids, made...)
		if ferr != nil {
			return out, ferr
		}
		r.notes = append(r.notes, fmt.Sprintf("cost curves: %d containers created after %.1f s (%d loops at once)",
			level, time.Since(fill).Seconds(), len(r.par)))
		r.w.do(func() {
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
		})
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// onAllLoops runs `args... ID` for every id, spread over the runtime's
// parallel workers (filling or emptying a root of 1,000 containers one
// by one would take minutes); it returns the ids it succeeded for.
func (b *bench) onAllLoops(r *rt, ids []string, args ...string) ([]string, error) {
	var mu sync.Mutex
	var done []string
	var errs []error
	var wg sync.WaitGroup
	for p, pw := range r.par {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pw.do(func() {
				for i := p; i < len(ids); i += len(r.par) {
					_, err := pw.cmd(slices.Concat(args, []string{ids[i]})...)
					mu.Lock()
					if err != nil {
						errs = append(errs, err)
					} else {
						done = append(done, ids[i])
					}
					mu.Unlock()
					if err != nil {
						return
					}
				}
			})
		}()
	}
	wg.Wait()
	return done, errors.Join(errs...)
}

// emptyRoot deletes the created containers (delete --force kills their
// inits) and reaps the inits, which came to the driver, the subreaper.
func (b *bench) emptyRoot(r *rt, ids []string) {
	if _, err := b.onAllLoops(r, ids, "delete", "--force"); err != nil {
		r.notes = append(r.notes, fmt.Sprintf("cost curves, deleting: %v", err))
		r.w.cleanup()
	}
	r.w.do(reapAll)
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
