package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// A row of the report: one measured quantity, per runtime, per round.
type row struct {
	key, title string
	unit       string // "ms" or "KiB"
	chart      string // label in the chart; "" keeps it out
	group      string // the report's table: "" latency, "rss", "cpu", "par", "scale"
	rss        bool   // the step also records the command's peak RSS and CPU time, in rows "rss:"+key and "cpu:"+key
	per        map[string]*series
}

type series struct {
	rounds [][]float64 // samples of each round
	err    string      // why this runtime has no (more) samples
}

// A step of a round: it fills one or more rows for one runtime. A new
// scenario is a function returning a step (its rows and how to measure
// them for one runtime), listed in allSteps.
type step struct {
	name string
	rows []*row
	once bool // only in the first round (the cost curves: long to set up)
	// rowsFor, when set, makes the rows from the bench's flags (levels)
	rowsFor func(b *bench) []*row
	run     func(b *bench, r *rt, round int) (map[string][]float64, error)
}

type rt struct {
	*Runtime
	w        *worker           // sequential steps
	par      []*worker         // the parallel loops
	lacks    map[string]bool   // commands the runtime does not have (exec, events)
	failed   map[string]string // step -> first error
	runNote  string            // what a successful `run` printed
	coldSecc float64           // the first seccomp run (compile, cache empty)
	notes    []string          // what went wrong outside the timed commands
}

// idTag starts every container id: "casco-bench-<pid>" unless -tag says
var idTag string

type bench struct {
	rounds, n          int
	loops              []int // parallel loops at once, per level of the parallel step
	levels             []int // containers under the root, per level of the cost curves
	scaleK             int   // samples per command and level of the cost curves
	bundles            string
	tmp                string
	steps              []step
	rows               []*row
	rts                []*rt
	loadStart, loadEnd string
	roundLoad          []string
	started            time.Time
	hideNote           string
	seccompNote        string
}

func benchMain(args []string) error {
	fs := flag.NewFlagSet("bench", flag.ExitOnError)
	cascoBin := fs.String("casco", "", "casco binary")
	runcBin := fs.String("runc", "/usr/sbin/runc", "runc binary")
	crunBin := fs.String("crun", "/usr/bin/crun", "crun binary")
	spawn := fs.String("spawn", "", "the launcher every command runs through (tests/bench/spawn.c): required for peak RSS")
	work := fs.String("work", "", "work directory (state roots, temporary files); bundles in WORK/bundles")
	rounds := fs.Int("rounds", 5, "rounds")
	n := fs.Int("n", 100, "iterations per step and round")
	loops := fs.String("loops", "1,2,4,8", "parallel loops at once, per level (n containers per level, split between the loops)")
	levels := fs.String("levels", "10,100,1000", "containers existing under the root, per level of the list/state/create cost curves")
	scaleK := fs.Int("scale-k", 10, "samples per command and level of the cost curves")
	hide := fs.String("crun-hide", "auto", "auto: hide the cgroup2 root's controllers from crun when the layout is hybrid; no: never")
	only := fs.String("steps", "", "comma-separated steps to run (default all): "+strings.Join(stepNames(), ","))
	mdOut := fs.String("md", "", "markdown report to write")
	datOut := fs.String("dat", "", "directory for the chart's data files (latency.dat, rss.dat, par.dat, scale.dat)")
	seccompNote := fs.String("seccomp-note", "", "how the seccomp profile was made (for the report)")
	tag := fs.String("tag", fmt.Sprintf("casco-bench-%d", os.Getpid()), "prefix of every container id (and so of every cgroup)")
	fs.Parse(args)
	idTag = *tag
	if *cascoBin == "" || *work == "" || *mdOut == "" || *spawn == "" {
		return fmt.Errorf("bench: -casco, -spawn, -work and -md are required")
	}
	if *rounds < 1 || *n < 2 {
		return fmt.Errorf("bench: need at least 1 round and n >= 2")
	}
	// orphaned container inits (after create) come to us, to be waited for
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("PR_SET_CHILD_SUBREAPER: %w", err)
	}
	b := &bench{rounds: *rounds, n: *n, scaleK: *scaleK, bundles: filepath.Join(*work, "bundles"),
		tmp: filepath.Join(*work, "tmp"), started: time.Now(), seccompNote: *seccompNote}
	var err error
	if b.loops, err = intList(*loops); err != nil {
		return fmt.Errorf("-loops: %w", err)
	}
	if b.levels, err = intList(*levels); err != nil {
		return fmt.Errorf("-levels: %w", err)
	}
	if err := os.MkdirAll(b.tmp, 0o755); err != nil {
		return err
	}
	if err := b.defineSteps(*only); err != nil {
		return err
	}

	hidePath := ""
	if *hide == "auto" {
		if c, err := os.ReadFile(controllersFile); err == nil && len(strings.TrimSpace(string(c))) > 0 && isHybrid() {
			hidePath = filepath.Join(*work, "empty-cgroup.controllers")
			if err := os.WriteFile(hidePath, nil, 0o444); err != nil {
				return err
			}
			b.hideNote = fmt.Sprintf("cgroups are hybrid and the cgroup2 root lists controllers (%q), which crun 1.8.1 refuses "+
				"(\"cgroups in hybrid mode not supported\"). crun runs from a driver thread that unshared its mount namespace "+
				"and bound an empty file over %s; the driver execs crun directly from that thread (no unshare(1), no shell, "+
				"nothing extra in the timed path). casco and runc run in the host's mount namespace.",
				strings.TrimSpace(string(c)), controllersFile)
		}
	}

	for _, spec := range []struct{ name, bin, hide string }{
		{"casco", *cascoBin, ""}, {"runc", *runcBin, ""}, {"crun", *crunBin, hidePath},
	} {
		r := &rt{Runtime: &Runtime{Name: spec.name, Bin: spec.bin, Root: filepath.Join(*work, "root-"+spec.name), Hide: spec.hide, Spawn: *spawn},
			failed: map[string]string{}, lacks: map[string]bool{}}
		var err error
		if r.w, err = r.newWorker(b.tmp); err != nil {
			return err
		}
		for i := 0; i < slices.Max(b.loops); i++ {
			pw, err := r.newWorker(b.tmp)
			if err != nil {
				return err
			}
			r.par = append(r.par, pw)
		}
		r.Version = version(r.w)
		r.w.do(func() {
			for _, c := range []string{"exec", "events"} {
				if _, err := r.w.exec(r.Bin, c, "--help"); err != nil {
					r.lacks[c] = true
				}
			}
		})
		b.rts = append(b.rts, r)
	}
	defer func() {
		for _, r := range b.rts {
			r.w.cleanup()
			r.w.close()
			for _, pw := range r.par {
				pw.close()
			}
		}
	}()

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, unix.SIGINT, unix.SIGTERM)
	go func() { <-sigs; stopping.Store(true) }()

	b.loadStart = loadavg()
	fmt.Fprintf(os.Stderr, "bench: %d rounds, n=%d, load average %s\n", b.rounds, b.n, b.loadStart)
	b.warmup()
	for round := 0; round < b.rounds; round++ {
		b.roundLoad = append(b.roundLoad, loadavg())
		fmt.Fprintf(os.Stderr, "round %d/%d (load %s)\n", round+1, b.rounds, b.roundLoad[round])
		for _, st := range b.steps {
			if st.once && round > 0 {
				continue
			}
			b.runStep(st, round)
		}
		if stopping.Load() {
			return errInterrupted
		}
	}
	b.loadEnd = loadavg()
	fmt.Fprintf(os.Stderr, "bench: done in %s, load average %s\n", time.Since(b.started).Round(time.Second), b.loadEnd)

	if err := os.WriteFile(*mdOut, []byte(b.markdown()), 0o644); err != nil {
		return err
	}
	if *datOut != "" {
		for name, data := range b.chartData() {
			if err := os.WriteFile(filepath.Join(*datOut, name), []byte(data), 0o644); err != nil {
				return err
			}
		}
	}
	return nil
}

func isHybrid() bool {
	var st unix.Statfs_t
	if unix.Statfs("/sys/fs/cgroup", &st) != nil || st.Type == unix.CGROUP2_SUPER_MAGIC {
		return false
	}
	return unix.Statfs("/sys/fs/cgroup/unified", &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC
}

// allSteps: every scenario, in the order a round runs them.
func allSteps() []step {
	return []step{
		runStep("run", "`run` /bin/true, default spec", "run"),
		runStep("nonet", "`run` /bin/true, no network namespace", "run, no netns"),
		phasesStep(),
		commandsStep(),
		stopStep(),
		parallelStep(),
		runStep("seccomp", "`run` with podman's seccomp profile", "run + seccomp"),
		scaleStep(),
		memoryStep(),
	}
}

func stepNames() []string {
	var names []string
	for _, s := range allSteps() {
		names = append(names, s.name)
	}
	return names
}

// defineSteps picks the steps -steps names and collects their rows; a row
// with rss gets its peak-RSS sibling.
func (b *bench) defineSteps(only string) error {
	want := map[string]bool{}
	for _, s := range strings.Split(only, ",") {
		if s != "" {
			want[s] = true
		}
	}
	picked := map[string]bool{}
	for _, st := range allSteps() {
		if len(want) > 0 && !want[st.name] {
			continue
		}
		picked[st.name] = true
		if st.rowsFor != nil {
			st.rows = st.rowsFor(b)
		}
		for _, r := range st.rows {
			if r.rss {
				st.rows = append(st.rows, &row{key: "rss:" + r.key, title: r.title, unit: "KiB", group: "rss", chart: r.chart},
					&row{key: "cpu:" + r.key, title: r.title, unit: "ms", group: "cpu"})
			}
		}
		for _, r := range st.rows {
			r.per = map[string]*series{}
		}
		b.rows = append(b.rows, st.rows...)
		b.steps = append(b.steps, st)
	}
	for s := range want {
		if picked[s] {
			continue
		}
		return fmt.Errorf("unknown step %q (steps: %s)", s, strings.Join(stepNames(), ","))
	}
	return nil
}

func intList(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q: want a comma list of positive numbers", s)
		}
		out = append(out, n)
	}
	return out, nil
}

// sample appends a command's time to out[key], its peak RSS to
// out["rss:"+key] and its CPU time to out["cpu:"+key].
func sample(out map[string][]float64, key string, d time.Duration, w *worker) {
	out[key] = append(out[key], ms(d))
	out["rss:"+key] = append(out["rss:"+key], w.last.maxRSS)
	out["cpu:"+key] = append(out["cpu:"+key], w.last.cpu)
}

func (b *bench) row(key string) *row {
	for _, r := range b.rows {
		if r.key == key {
			return r
		}
	}
	return &row{per: map[string]*series{}} // a row no step asked for: dropped
}

// runStep runs one step for each runtime in turn: casco, runc, crun.
func (b *bench) runStep(st step, round int) {
	var line []string
	for _, r := range b.rts {
		for _, row := range st.rows {
			if row.per[r.Name] == nil {
				row.per[r.Name] = &series{rounds: make([][]float64, b.rounds)}
			}
		}
		if r.failed[st.name] != "" {
			continue
		}
		samples, err := st.run(b, r, round)
		if err != nil {
			b.fail(st, r, err.Error())
			fmt.Fprintf(os.Stderr, "  %s %s: FAILED: %v\n", st.name, r.Name, err)
			r.w.cleanup()
			continue
		}
		for key, xs := range samples {
			if s := b.row(key).per[r.Name]; s != nil {
				s.rounds[round] = xs
			}
		}
		for _, row := range st.rows {
			if row.group == "" && len(samples[row.key]) > 0 {
				line = append(line, fmt.Sprintf("%s %s %.1f", r.Name, row.key, median(samples[row.key])))
				break
			}
		}
	}
	fmt.Fprintf(os.Stderr, "  %-8s %s\n", st.name, strings.Join(line, "  "))
}

func (b *bench) fail(st step, r *rt, msg string) {
	if r.failed[st.name] == "" {
		r.failed[st.name] = msg
	}
	for _, row := range st.rows {
		if s := row.per[r.Name]; s.err == "" {
			s.err = msg
		}
	}
}

func (b *bench) id(round int, step string, r *rt, i int) string {
	return fmt.Sprintf("%s-r%d-%s-%s-%d", idTag, round+1, step, r.Name, i)
}

func (b *bench) bundle(kind string) string { return filepath.Join(b.bundles, kind) }

// warmup: a few runs of each runtime first (page cache, dentries), and the
// first run with the seccomp profile, timed on its own: a runtime that
// caches compiled filters pays the compilation here.
func (b *bench) warmup() {
	for _, r := range b.rts {
		r.w.do(func() {
			for i := 0; i < 3; i++ {
				id := fmt.Sprintf("%s-warm-%s-%d", idTag, r.Name, i)
				if _, err := r.w.cmd("run", "--bundle", b.bundle("run"), id); err != nil {
					fmt.Fprintf(os.Stderr, "  warm-up %s: %v\n", r.Name, err)
					return
				}
				if i == 0 {
					r.runNote = r.w.output()
				}
			}
			if b.has("seccomp") {
				id := fmt.Sprintf("%s-warm-%s-seccomp", idTag, r.Name)
				if d, err := r.w.cmd("run", "--bundle", b.bundle("seccomp"), id); err == nil {
					r.coldSecc = ms(d)
				}
			}
		})
	}
}

func (b *bench) has(step string) bool {
	for _, s := range b.steps {
		if s.name == step {
			return true
		}
	}
	return false
}

// runStep: n sequential `run`s of one bundle kind.
func runStep(kind, title, chart string) step {
	return step{name: kind, rows: []*row{{key: kind, title: title, unit: "ms", chart: chart, rss: true}},
		run: func(b *bench, r *rt, round int) (map[string][]float64, error) { return b.runLoop(r, kind, round) }}
}

func (b *bench) runLoop(r *rt, kind string, round int) (map[string][]float64, error) {
	out := map[string][]float64{}
	var err error
	r.w.do(func() {
		for i := 0; i < b.n; i++ {
			var d time.Duration
			if d, err = r.w.cmd("run", "--bundle", b.bundle(kind), b.id(round, kind, r, i)); err != nil {
				return
			}
			sample(out, kind, d, r.w)
		}
	})
	return out, err
}

func phasesStep() step {
	return step{name: "phases", run: (*bench).phases, rows: []*row{
		{key: "create", title: "`create`", unit: "ms", chart: "create", rss: true},
		{key: "start", title: "`start`", unit: "ms", chart: "start", rss: true},
		{key: "wait", title: "wait for exit (pidfd)", unit: "ms"},
		{key: "delete", title: "`delete` (stopped)", unit: "ms", chart: "delete", rss: true},
		{key: "phases", title: "create + start + wait + delete", unit: "ms", chart: "create..delete"},
	}}
}

// phases: create, start, wait for the init to exit, delete, each timed.
func (b *bench) phases(r *rt, round int) (map[string][]float64, error) {
	out := map[string][]float64{}
	var err error
	pidFile := filepath.Join(b.tmp, "pid-"+r.Name)
	r.w.do(func() {
		for i := 0; i < b.n; i++ {
			id := b.id(round, "phases", r, i)
			os.Remove(pidFile)
			var dc, ds, dd time.Duration
			if dc, err = r.w.cmd("create", "--bundle", b.bundle("run"), "--pid-file", pidFile, id); err != nil {
				return
			}
			sample(out, "create", dc, r.w)
			var pidfd int
			if pidfd, err = readPidFile(pidFile); err != nil {
				return
			}
			if ds, err = r.w.cmd("start", id); err != nil {
				unix.Close(pidfd)
				return
			}
			sample(out, "start", ds, r.w)
			t0 := time.Now()
			err = waitExit(pidfd)
			dw := time.Since(t0)
			unix.Close(pidfd)
			if err != nil {
				return
			}
			if dd, err = r.w.cmd("delete", id); err != nil {
				return
			}
			sample(out, "delete", dd, r.w)
			out["wait"] = append(out["wait"], ms(dw))
			out["phases"] = append(out["phases"], ms(dc+ds+dw+dd))
		}
	})
	return out, err
}

func version(w *worker) string {
	var v string
	w.do(func() {
		if _, err := w.exec(w.rt.Bin, "--version"); err != nil {
			v = "unknown (" + err.Error() + ")"
			return
		}
		out, _ := os.ReadFile(w.out.Name())
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		var keep []string
		for _, l := range lines {
			if strings.HasPrefix(l, "commit:") || strings.Contains(l, "version") || strings.HasPrefix(l, "go:") {
				keep = append(keep, strings.TrimSpace(l))
			}
		}
		v = strings.Join(keep, ", ")
	})
	return v
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
