package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// A row of the report: one measured quantity, per runtime, per round.
type row struct {
	key, title string
	unit       string // "ms" or "KiB"
	chart      string // label in the chart; "" keeps it out
	per        map[string]*series
}

type series struct {
	rounds [][]float64 // samples of each round
	err    string      // why this runtime has no (more) samples
}

// A step of a round: it fills one or more rows for one runtime.
type step struct {
	name string
	rows []string
	run  func(b *bench, r *rt, round int) (map[string][]float64, error)
}

type rt struct {
	*Runtime
	w        *worker   // sequential steps
	par      []*worker // the parallel loops
	noExec   bool
	failed   map[string]string // step -> first error
	runNote  string            // what a successful `run` printed
	coldSecc float64           // the first seccomp run (compile, cache empty)
	notes    []string          // what went wrong outside the timed commands
}

// idTag starts every container id: "casco-bench-<pid>" unless -tag says
var idTag string

type bench struct {
	rounds, n, parallel int
	bundles             string
	tmp                 string
	timeBin             string
	steps               []step
	rows                []*row
	rts                 []*rt
	loadStart, loadEnd  string
	roundLoad           []string
	started             time.Time
	hideNote            string
	seccompNote         string
}

func benchMain(args []string) error {
	fs := flag.NewFlagSet("bench", flag.ExitOnError)
	cascoBin := fs.String("casco", "", "casco binary")
	runcBin := fs.String("runc", "/usr/sbin/runc", "runc binary")
	crunBin := fs.String("crun", "/usr/bin/crun", "crun binary")
	work := fs.String("work", "", "work directory (state roots, temporary files); bundles in WORK/bundles")
	rounds := fs.Int("rounds", 5, "rounds")
	n := fs.Int("n", 100, "iterations per step and round")
	parallel := fs.Int("parallel", 4, "parallel loops (each runs n/2 containers)")
	hide := fs.String("crun-hide", "auto", "auto: hide the cgroup2 root's controllers from crun when the layout is hybrid; no: never")
	only := fs.String("steps", "", "comma-separated steps to run (default all): run,nonet,phases,exec,parallel,rss,seccomp")
	timeBin := fs.String("time", "/usr/bin/time", "GNU time")
	mdOut := fs.String("md", "", "markdown report to write")
	datOut := fs.String("dat", "", "gnuplot data to write")
	seccompNote := fs.String("seccomp-note", "", "how the seccomp profile was made (for the report)")
	tag := fs.String("tag", fmt.Sprintf("casco-bench-%d", os.Getpid()), "prefix of every container id (and so of every cgroup)")
	fs.Parse(args)
	idTag = *tag
	if *cascoBin == "" || *work == "" || *mdOut == "" {
		return fmt.Errorf("bench: -casco, -work and -md are required")
	}
	if *rounds < 1 || *n < 2 {
		return fmt.Errorf("bench: need at least 1 round and n >= 2")
	}
	// orphaned container inits (after create) come to us, to be waited for
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("PR_SET_CHILD_SUBREAPER: %w", err)
	}
	b := &bench{rounds: *rounds, n: *n, parallel: *parallel, bundles: filepath.Join(*work, "bundles"),
		tmp: filepath.Join(*work, "tmp"), timeBin: *timeBin, started: time.Now(), seccompNote: *seccompNote}
	if err := os.MkdirAll(b.tmp, 0o755); err != nil {
		return err
	}
	b.defineSteps(*only)

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
		r := &rt{Runtime: &Runtime{Name: spec.name, Bin: spec.bin, Root: filepath.Join(*work, "root-"+spec.name), Hide: spec.hide},
			failed: map[string]string{}}
		var err error
		if r.w, err = r.newWorker(b.tmp); err != nil {
			return err
		}
		for i := 0; i < b.parallel; i++ {
			pw, err := r.newWorker(b.tmp)
			if err != nil {
				return err
			}
			r.par = append(r.par, pw)
		}
		r.Version = version(r.w)
		r.w.do(func() {
			if _, err := r.w.exec(r.Bin, "exec", "--help"); err != nil {
				r.noExec = true
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
		if err := os.WriteFile(*datOut, []byte(b.chartData()), 0o644); err != nil {
			return err
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

func (b *bench) defineSteps(only string) {
	b.rows = []*row{
		{key: "run", title: "`run` /bin/true, default spec", unit: "ms", chart: "run"},
		{key: "nonet", title: "`run` /bin/true, no network namespace", unit: "ms", chart: "run, no netns"},
		{key: "create", title: "`create`", unit: "ms", chart: "create"},
		{key: "start", title: "`start`", unit: "ms", chart: "start"},
		{key: "wait", title: "wait for exit (pidfd)", unit: "ms", chart: "wait"},
		{key: "delete", title: "`delete`", unit: "ms", chart: "delete"},
		{key: "phases", title: "create + start + wait + delete", unit: "ms", chart: "create..delete"},
		{key: "exec", title: "`exec` /bin/true into a running container", unit: "ms", chart: "exec"},
		{key: "parallel", title: "", unit: "ms"}, // titled in markdown(): depends on -parallel and -n
		{key: "rss", title: "peak RSS of `run` (GNU time %M)", unit: "KiB"},
		{key: "seccomp", title: "`run` with podman's seccomp profile", unit: "ms", chart: "run + seccomp"},
	}
	for _, r := range b.rows {
		r.per = map[string]*series{}
	}
	all := []step{
		{"run", []string{"run"}, func(b *bench, r *rt, round int) (map[string][]float64, error) {
			return b.runLoop(r, "run", round, "run")
		}},
		{"nonet", []string{"nonet"}, func(b *bench, r *rt, round int) (map[string][]float64, error) {
			return b.runLoop(r, "nonet", round, "nonet")
		}},
		{"phases", []string{"create", "start", "wait", "delete", "phases"}, (*bench).phases},
		{"exec", []string{"exec"}, (*bench).execLoop},
		{"parallel", []string{"parallel"}, (*bench).parallelLoops},
		{"rss", []string{"rss"}, (*bench).rss},
		{"seccomp", []string{"seccomp"}, func(b *bench, r *rt, round int) (map[string][]float64, error) {
			return b.runLoop(r, "seccomp", round, "seccomp")
		}},
	}
	want := map[string]bool{}
	for _, s := range strings.Split(only, ",") {
		if s != "" {
			want[s] = true
		}
	}
	for _, s := range all {
		if len(want) == 0 || want[s.name] {
			b.steps = append(b.steps, s)
		}
	}
}

func (b *bench) row(key string) *row {
	for _, r := range b.rows {
		if r.key == key {
			return r
		}
	}
	panic("no row " + key)
}

// runStep runs one step for each runtime in turn: casco, runc, crun.
func (b *bench) runStep(st step, round int) {
	var line []string
	for _, r := range b.rts {
		for _, key := range st.rows {
			row := b.row(key)
			if row.per[r.Name] == nil {
				row.per[r.Name] = &series{rounds: make([][]float64, b.rounds)}
			}
		}
		if st.name == "exec" && r.noExec {
			b.fail(st, r, r.Name+": exec not implemented")
			continue
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
			b.row(key).per[r.Name].rounds[round] = xs
		}
		first := b.row(st.rows[len(st.rows)-1])
		line = append(line, fmt.Sprintf("%s %.1f", r.Name, median(samples[first.key])))
	}
	fmt.Fprintf(os.Stderr, "  %-8s %s\n", st.name, strings.Join(line, "  "))
}

func (b *bench) fail(st step, r *rt, msg string) {
	if r.failed[st.name] == "" {
		r.failed[st.name] = msg
	}
	for _, key := range st.rows {
		if s := b.row(key).per[r.Name]; s.err == "" {
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

// runLoop: n sequential `run`s of a bundle.
func (b *bench) runLoop(r *rt, step string, round int, kind string) (map[string][]float64, error) {
	var xs []float64
	var err error
	r.w.do(func() {
		for i := 0; i < b.n; i++ {
			var d time.Duration
			if d, err = r.w.cmd("run", "--bundle", b.bundle(kind), b.id(round, step, r, i)); err != nil {
				return
			}
			xs = append(xs, ms(d))
		}
	})
	return map[string][]float64{step: xs}, err
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
			var pidfd int
			if pidfd, err = readPidFile(pidFile); err != nil {
				return
			}
			if ds, err = r.w.cmd("start", id); err != nil {
				unix.Close(pidfd)
				return
			}
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
			out["create"] = append(out["create"], ms(dc))
			out["start"] = append(out["start"], ms(ds))
			out["wait"] = append(out["wait"], ms(dw))
			out["delete"] = append(out["delete"], ms(dd))
			out["phases"] = append(out["phases"], ms(dc+ds+dw+dd))
		}
	})
	return out, err
}

// execLoop: one container running sleep, n execs of /bin/true into it.
func (b *bench) execLoop(r *rt, round int) (map[string][]float64, error) {
	var xs []float64
	var err error
	pidFile := filepath.Join(b.tmp, "pid-"+r.Name)
	id := b.id(round, "exec", r, 0)
	r.w.do(func() {
		os.Remove(pidFile)
		if _, err = r.w.cmd("create", "--bundle", b.bundle("sleep"), "--pid-file", pidFile, id); err != nil {
			return
		}
		var pidfd int
		if pidfd, err = readPidFile(pidFile); err != nil {
			return
		}
		defer func() {
			if serr := r.w.stop(id, pidfd); serr != nil {
				if err == nil {
					// the samples stand; the teardown failure is a finding of its own
					r.notes = append(r.notes, fmt.Sprintf("round %d, exec: tearing the container down failed: %v", round+1, serr))
				}
				r.w.cleanup()
			}
			unix.Close(pidfd)
		}()
		if _, err = r.w.cmd("start", id); err != nil {
			return
		}
		for i := 0; i < b.n; i++ {
			var d time.Duration
			if d, err = r.w.cmd("exec", id, "/bin/true"); err != nil {
				return
			}
			xs = append(xs, ms(d))
		}
	})
	return map[string][]float64{"exec": xs}, err
}

// parallelLoops: b.parallel loops of n/2 `run`s each, at once; wall time.
func (b *bench) parallelLoops(r *rt, round int) (map[string][]float64, error) {
	per := b.n / 2
	var wg sync.WaitGroup
	errs := make([]error, len(r.par))
	t0 := time.Now()
	for p, pw := range r.par {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pw.do(func() {
				for i := 0; i < per; i++ {
					id := b.id(round, "par"+strconv.Itoa(p), r, i)
					if _, err := pw.cmd("run", "--bundle", b.bundle("run"), id); err != nil {
						errs[p] = err
						return
					}
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
		return nil, err
	}
	return map[string][]float64{"parallel": {ms(wall)}}, nil
}

// rss: peak resident set of `run` as GNU time reports it (the runtime and
// the children it reaps; a few samples a round).
func (b *bench) rss(r *rt, round int) (map[string][]float64, error) {
	k := max(3, b.n/20)
	var xs []float64
	var err error
	outFile := filepath.Join(b.tmp, "rss-"+r.Name)
	r.w.do(func() {
		for i := 0; i < k; i++ {
			if stopping.Load() {
				err = errInterrupted
				return
			}
			args := []string{"-o", outFile, "-f", "%M", r.Bin, "--root", r.Root, "run", "--bundle", b.bundle("run"), b.id(round, "rss", r, i)}
			if _, err = r.w.exec(b.timeBin, args...); err != nil {
				return
			}
			var data []byte
			if data, err = os.ReadFile(outFile); err != nil {
				return
			}
			lines := strings.Split(strings.TrimSpace(string(data)), "\n")
			var kib float64
			if kib, err = strconv.ParseFloat(lines[len(lines)-1], 64); err != nil {
				err = fmt.Errorf("GNU time wrote %q", data)
				return
			}
			xs = append(xs, kib)
		}
	})
	return map[string][]float64{"rss": xs}, err
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
