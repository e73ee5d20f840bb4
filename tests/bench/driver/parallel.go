package main

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"
)

// parallelStep: at each level, p loops run `run` at once, n containers
// in all (n/p each): the wall time gives containers per second, and the
// CPU time wait4 reports for every `run` (the runtime and the container's
// init it reaps) gives the CPU one container costs.
func parallelStep() step {
	return step{name: "parallel", run: (*bench).parallelLevels, rowsFor: func(b *bench) []*row {
		var rows []*row
		for _, p := range b.loops {
			rows = append(rows,
				&row{key: parKey(p), title: fmt.Sprintf("%d loops at once, wall", p), unit: "ms", group: "par"},
				&row{key: parCPUKey(p), title: fmt.Sprintf("%d loops at once, CPU per container", p), unit: "ms", group: "par"})
		}
		return rows
	}}
}

func parKey(p int) string    { return "par-" + strconv.Itoa(p) }
func parCPUKey(p int) string { return "parcpu-" + strconv.Itoa(p) }

// perLoop: the containers each of p loops runs (n in all, at least one each).
func (b *bench) perLoop(p int) int { return max(1, b.n/p) }

func (b *bench) parallelLevels(r *rt, round int) (map[string][]float64, error) {
	out := map[string][]float64{}
	for _, p := range b.loops {
		wall, cpu, err := b.parallelLoops(r, round, p)
		if err != nil {
			return out, err
		}
		out[parKey(p)] = []float64{ms(wall)}
		out[parCPUKey(p)] = []float64{cpu / float64(p*b.perLoop(p))}
	}
	return out, nil
}

// parallelLoops: p loops of perLoop(p) `run`s each, at once; the wall time
// and the CPU milliseconds of all the runs.
func (b *bench) parallelLoops(r *rt, round, p int) (time.Duration, float64, error) {
	per := b.perLoop(p)
	var wg sync.WaitGroup
	errs := make([]error, p)
	cpu := make([]float64, p)
	t0 := time.Now()
	for i, pw := range r.par[:p] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pw.do(func() {
				for j := 0; j < per; j++ {
					id := b.id(round, fmt.Sprintf("par%d-%d", p, i), r, j)
					if _, err := pw.cmd("run", "--bundle", b.bundle("run"), id); err != nil {
						errs[i] = err
						return
					}
					cpu[i] += pw.last.cpu
				}
			})
		}()
	}
	wg.Wait()
	wall := time.Since(t0)
	if err := errors.Join(errs...); err != nil {
		for _, pw := range r.par {
			pw.cleanup()
		}
		return 0, 0, err
	}
	total := 0.0
	for _, c := range cpu {
		total += c
	}
	return wall, total, nil
}
