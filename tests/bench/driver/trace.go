package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

var (
	traceLine = regexp.MustCompile(`^trace: (\S.*?)\s+([0-9.]+) ms\s+\(at\s+([0-9.]+) ms\)`)
	// the init's own steps, reported with the parent step they are part of:
	// "trace:   init mounts   0.452 ms  (17)", 17 operations
	subLine = regexp.MustCompile(`^trace:\s+(\S.*?)\s+([0-9.]+) ms\s+\((\d+)\)\s*$`)
)

// traceMain runs `casco --trace run` n times and prints the median of each
// step, plus what the trace cannot see: the process start before the first
// step and the wait, delete and exit after the last.
func traceMain(args []string) error {
	fs := flag.NewFlagSet("trace", flag.ExitOnError)
	cascoBin := fs.String("casco", "", "casco binary")
	bundle := fs.String("bundle", "", "bundle directory")
	work := fs.String("work", "", "work directory (state root, temporary files)")
	n := fs.Int("n", 20, "runs")
	tag := fs.String("tag", fmt.Sprintf("casco-bench-%d", os.Getpid()), "prefix of every container id")
	fs.Parse(args)
	if *cascoBin == "" || *bundle == "" || *work == "" {
		return fmt.Errorf("trace: -casco, -bundle and -work are required")
	}
	r := &Runtime{Name: "casco", Bin: *cascoBin, Root: filepath.Join(*work, "root-casco")}
	w, err := r.newWorker(*work)
	if err != nil {
		return err
	}
	defer func() { w.cleanup(); w.close() }()

	type stepStat struct {
		name string
		ops  string
		xs   []float64
		subs []*stepStat
	}
	var order []*stepStat
	byName := map[string]*stepStat{}
	var walls, traced, versions []float64
	other := map[string]bool{}
	var runErr error
	w.do(func() {
		for i := -2; i < *n; i++ { // two warm-up runs first
			id := fmt.Sprintf("%s-trace-%d", *tag, i+2)
			d, err := w.cmd("--trace", "run", "--bundle", *bundle, id)
			if err != nil {
				runErr = err
				return
			}
			out, _ := os.ReadFile(w.out.Name())
			if i < 0 {
				continue
			}
			last := 0.0
			var pending []*stepStat // sub-steps seen before their parent step
			for _, l := range strings.Split(string(out), "\n") {
				if m := subLine.FindStringSubmatch(l); m != nil {
					x, _ := strconv.ParseFloat(m[2], 64)
					pending = append(pending, &stepStat{name: m[1], ops: m[3], xs: []float64{x}})
					continue
				}
				m := traceLine.FindStringSubmatch(l)
				if m == nil {
					if strings.TrimSpace(l) != "" {
						other[strings.TrimSpace(l)] = true
					}
					continue
				}
				step, _ := strconv.ParseFloat(m[2], 64)
				at, _ := strconv.ParseFloat(m[3], 64)
				s := byName[m[1]]
				if s == nil {
					s = &stepStat{name: m[1]}
					byName[m[1]] = s
					order = append(order, s)
				}
				s.xs = append(s.xs, step)
				last = at
				for _, p := range pending {
					var sub *stepStat
					for _, have := range s.subs {
						if have.name == p.name {
							sub = have
						}
					}
					if sub == nil {
						sub = &stepStat{name: p.name, ops: p.ops}
						s.subs = append(s.subs, sub)
					}
					sub.xs = append(sub.xs, p.xs...)
				}
				pending = nil
			}
			walls = append(walls, ms(d))
			traced = append(traced, last)
			if v, err := w.exec(*cascoBin, "--version"); err == nil {
				versions = append(versions, ms(v))
			}
		}
	})
	if runErr != nil {
		return runErr
	}
	wall := median(walls)
	fmt.Printf("casco --trace run, %d runs (after 2 warm-up runs), bundle %s, %s\n", *n, *bundle, time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Printf("load average %s, %s\n\n", loadavg(), machine())
	fmt.Printf("| step | median ms | min ms | share of wall |\n|---|---:|---:|---:|\n")
	for _, s := range order {
		note := ""
		if len(s.xs) != *n {
			note = fmt.Sprintf(" (in %d of %d runs)", len(s.xs), *n)
		}
		fmt.Printf("| %s%s | %.3f | %.3f | %.0f%% |\n", s.name, note, median(s.xs), minimum(s.xs), 100*median(s.xs)/wall)
		for _, sub := range s.subs {
			fmt.Printf("| &nbsp;&nbsp;↳ %s (×%s) | %.3f | %.3f | |\n", sub.name, sub.ops, median(sub.xs), minimum(sub.xs))
		}
	}
	outside := make([]float64, len(walls))
	for i := range walls {
		outside[i] = walls[i] - traced[i]
	}
	fmt.Printf("| **traced: parse bundle .. start** | %.3f | %.3f | %.0f%% |\n", median(traced), minimum(traced), 100*median(traced)/wall)
	fmt.Printf("| outside the trace: exec + Go start + CLI before it; wait + delete + exit after it | %.3f | %.3f | %.0f%% |\n",
		median(outside), minimum(outside), 100*median(outside)/wall)
	fmt.Printf("| **wall time of `casco run` (driver, fork to reaped exit)** | %.3f | %.3f | 100%% |\n", wall, minimum(walls))
	fmt.Printf("| for scale: `casco --version` (exec + Go start + exit) | %.3f | %.3f | |\n", median(versions), minimum(versions))
	if len(other) > 0 {
		fmt.Printf("\nother lines casco printed:\n")
		for l := range other {
			fmt.Printf("  %s\n", l)
		}
	}
	return nil
}
