package main

import (
	"fmt"
	"math"
	"os"
	"runtime"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

func (b *bench) rt(name string) *rt {
	for _, r := range b.rts {
		if r.Name == name {
			return r
		}
	}
	return nil
}

func (b *bench) rowTitle(r *row) string { return r.title }

// cell: "median (min)" in the row's unit, or why there is none.
func cell(r *row, s *series) string {
	if s == nil {
		return "not run"
	}
	all := flatten(s.rounds)
	if len(all) == 0 {
		if strings.Contains(s.err, "not implemented") {
			return s.err
		}
		if s.err != "" {
			return "failed"
		}
		return "not run"
	}
	med, mn := median(all), minimum(all)
	if r.unit == "KiB" {
		return fmt.Sprintf("%.1f MiB (%.1f)", med/1024, mn/1024)
	}
	out := fmt.Sprintf("%s (%s)", num(med), num(mn))
	if s.err != "" {
		out += " †"
	}
	return out
}

func num(x float64) string {
	switch {
	case math.IsNaN(x):
		return "?"
	case x >= 1000:
		return fmt.Sprintf("%.0f", x)
	case x >= 100:
		return fmt.Sprintf("%.1f", x)
	default:
		return fmt.Sprintf("%.2f", x)
	}
}

// ratio: the median of the per-round ratios of a to c.
func ratio(r *row, a, c string) string {
	sa, sc := r.per[a], r.per[c]
	if sa == nil || sc == nil {
		return "—"
	}
	rs := roundRatios(sa.rounds, sc.rounds)
	if len(rs) == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f", median(rs))
}

var names = []string{"casco", "runc", "crun"}

func (b *bench) markdown() string {
	var sb strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&sb, format, args...) }

	p("# casco vs runc vs crun\n\n")
	p("%s, %d rounds, n = %d per step and round, interleaved (each round runs every step for casco, then runc, then crun).\n\n",
		b.started.UTC().Format("2006-01-02 15:04 UTC"), b.rounds, b.n)
	p("| | |\n|---|---|\n")
	p("| machine | %s |\n", machine())
	p("| load average (1, 5, 15 min) | start %s · end %s · at each round's start: %s |\n", b.loadStart, b.loadEnd, b.roundLoads())
	for _, n := range names {
		if r := b.rt(n); r != nil {
			p("| %s | %s (`%s`) |\n", n, r.Version, r.Bin)
		}
	}
	p("| bundle | `runc spec`, terminal false, args `/bin/true` (`sleep 1000` for the commands on a running container), busybox-static rootfs (read-only), one config.json for all three |\n")
	p("| duration | %s |\n\n", time.Since(b.started).Round(time.Second))

	p("Each runtime cell: median (minimum) over all rounds' samples. ")
	p("Ratios: the median of the per-round ratios of medians (computed within each round, so all three ran under the same load); below 1 means casco is faster or smaller.\n\n")
	p("## Latency (ms)\n\n")
	b.table(p, "", "scenario")
	b.sizeRow(p)
	p("\n## Peak RSS of every command (MiB)\n\n")
	p("wait4's `ru_maxrss` of the command (GNU time's %%M): the runtime process and the children it waited for (a `run`'s container init, runc's `runc init`). It counts the pages of the binary and its libraries the process mapped, which the page cache shares between processes, and its private memory.\n\n")
	b.table(p, "rss", "command")
	p("\n## CPU time of every command (ms)\n\n")
	p("wait4's `ru_utime + ru_stime` of the command and the children it waited for: what the command costs the machine, less disturbed by the load than its wall time (this VM has no instruction counters for perf, and valgrind cannot run the Go binaries).\n\n")
	b.table(p, "cpu", "command")
	b.parallelTable(p)
	b.scaleTable(p)
	b.memoryTable(p)
	b.failures(p)
	b.perRound(p)
	b.notes(p)
	return sb.String()
}

// table: one line per row of the group, with the three runtimes and ratios.
func (b *bench) table(p func(string, ...any), group, what string) {
	p("| %s | casco | runc | crun | casco/crun | casco/runc | runc/crun |\n", what)
	p("|---|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range b.rows {
		if r.group != group || len(r.per) == 0 {
			continue
		}
		p("| %s | %s | %s | %s | %s | %s | %s |\n", b.rowTitle(r),
			cell(r, r.per["casco"]), cell(r, r.per["runc"]), cell(r, r.per["crun"]),
			ratio(r, "casco", "crun"), ratio(r, "casco", "runc"), ratio(r, "runc", "crun"))
	}
}

func (b *bench) sizeRow(p func(string, ...any)) {
	sizes := map[string]float64{}
	for _, n := range names {
		if r := b.rt(n); r != nil {
			if st, err := os.Stat(r.Bin); err == nil {
				sizes[n] = float64(st.Size())
			}
		}
	}
	sz := func(n string) string {
		if s, ok := sizes[n]; ok {
			return fmt.Sprintf("%.1f MiB", s/(1<<20))
		}
		return "?"
	}
	rt := func(a, c string) string {
		if sizes[a] > 0 && sizes[c] > 0 {
			return fmt.Sprintf("%.2f", sizes[a]/sizes[c])
		}
		return "—"
	}
	p("| binary size (file; casco static, runc and crun link libseccomp and libc dynamically, crun also libcap, libyajl, libsystemd, …) | %s | %s | %s | %s | %s | %s |\n",
		sz("casco"), sz("runc"), sz("crun"), rt("casco", "crun"), rt("casco", "runc"), rt("runc", "crun"))
}

// parallelTable: containers per second and CPU per container at each
// level of parallel loops. Throughput ratios are casco's over the other's
// (above 1 means casco starts more containers per second).
func (b *bench) parallelTable(p func(string, ...any)) {
	if len(b.row(parKey(b.loops[0])).per) == 0 {
		return
	}
	p("\n## Parallel `run`: containers per second, CPU per container\n\n")
	p("At each level, the loops run %d containers in all; containers per second = %d / wall time (median over rounds). CPU per container: the user + system time wait4 reports for every `run` (the runtime and the container's init it reaps), summed and divided by %d. Throughput ratios: above 1 means casco starts more containers per second; CPU ratios: below 1 means casco uses less.\n\n", b.n, b.n, b.n)
	p("| loops at once | casco /s | runc /s | crun /s | casco/crun throughput | casco/runc throughput | casco CPU ms | runc CPU ms | crun CPU ms | casco/crun CPU |\n")
	p("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, l := range b.loops {
		w, c := b.row(parKey(l)), b.row(parCPUKey(l))
		total := float64(l * b.perLoop(l))
		tp := func(n string) string {
			s := w.per[n]
			if s == nil || len(flatten(s.rounds)) == 0 {
				return "—"
			}
			return fmt.Sprintf("%.1f", total/median(flatten(s.rounds))*1000)
		}
		cpu := func(n string) string {
			s := c.per[n]
			if s == nil || len(flatten(s.rounds)) == 0 {
				return "—"
			}
			return num(median(flatten(s.rounds)))
		}
		p("| %d | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", l, tp("casco"), tp("runc"), tp("crun"),
			ratio(w, "crun", "casco"), ratio(w, "runc", "casco"), cpu("casco"), cpu("runc"), cpu("crun"), ratio(c, "casco", "crun"))
	}
}

// scaleTable: the cost curves, one line per command and level.
func (b *bench) scaleTable(p func(string, ...any)) {
	if len(b.row(scaleKey("list", b.levels[0])).per) == 0 {
		return
	}
	p("\n## Cost curves: `list`, `state`, `create` with 10 to 1,000 containers under the root (ms)\n\n")
	p("Measured once (round 1), %d samples per command and level; the containers are `create`d and not started (their inits wait on the exec fifo). `state` asks for one of the existing containers; `create` makes one more (then deleted). Last column: the median at the highest level over the median at the lowest, per runtime (1.00 = flat).\n\n", b.scaleK)
	p("| command, containers | casco | runc | crun | casco/crun | casco/runc | growth casco · runc · crun |\n")
	p("|---|---:|---:|---:|---:|---:|---|\n")
	lo, hi := b.levels[0], b.levels[len(b.levels)-1]
	for _, c := range scaleCmds {
		for _, l := range b.levels {
			r := b.row(scaleKey(c, l))
			growth := ""
			if l == hi && hi != lo {
				var gs []string
				for _, n := range names {
					a, z := b.row(scaleKey(c, lo)).per[n], r.per[n]
					if a == nil || z == nil || len(flatten(a.rounds)) == 0 || len(flatten(z.rounds)) == 0 {
						gs = append(gs, "—")
						continue
					}
					gs = append(gs, fmt.Sprintf("%.2f", median(flatten(z.rounds))/median(flatten(a.rounds))))
				}
				growth = strings.Join(gs, " · ")
			}
			p("| `%s`, %d | %s | %s | %s | %s | %s | %s |\n", c, l, cell(r, r.per["casco"]), cell(r, r.per["runc"]), cell(r, r.per["crun"]),
				ratio(r, "casco", "crun"), ratio(r, "casco", "runc"), growth)
		}
	}
	r := b.row("rss:" + scaleKey("list", hi))
	p("| peak RSS of `list`, %d | %s | %s | %s | %s | %s | |\n", hi, cell(r, r.per["casco"]), cell(r, r.per["runc"]), cell(r, r.per["crun"]),
		ratio(r, "casco", "crun"), ratio(r, "casco", "runc"))
}

func (b *bench) failures(p func(string, ...any)) {
	var notes []string
	for _, r := range b.rows {
		for _, n := range names {
			if s := r.per[n]; s != nil && s.err != "" {
				notes = append(notes, fmt.Sprintf("%s, %s: %s", b.rowTitle(r), n, s.err))
			}
		}
	}
	if len(notes) == 0 {
		return
	}
	p("\nFailures and gaps († = failed in a later round; the samples are those before):\n\n")
	seen := map[string]bool{}
	for _, n := range notes {
		if !seen[n] {
			p("- %s\n", oneLine(n))
			seen[n] = true
		}
	}
}

func (b *bench) roundLoads() string {
	var ls []string
	for _, l := range b.roundLoad {
		ls = append(ls, strings.Fields(l)[0])
	}
	return strings.Join(ls, ", ")
}

func (b *bench) perRound(p func(string, ...any)) {
	p("\n## Per-round casco/crun ratios\n\n")
	p("| scenario |")
	for i := 0; i < b.rounds; i++ {
		p(" r%d |", i+1)
	}
	p("\n|---|")
	for i := 0; i < b.rounds; i++ {
		p("---:|")
	}
	p("\n| load average at round start |")
	for i := 0; i < b.rounds; i++ {
		if i < len(b.roundLoad) {
			p(" %s |", strings.Fields(b.roundLoad[i])[0])
		} else {
			p(" |")
		}
	}
	p("\n")
	for _, r := range b.rows {
		ca, cr := r.per["casco"], r.per["crun"]
		if ca == nil || cr == nil || r.group == "scale" || r.group == "rss" || r.group == "cpu" {
			continue
		}
		p("| %s |", b.rowTitle(r))
		for i := 0; i < b.rounds; i++ {
			if len(ca.rounds[i]) == 0 || len(cr.rounds[i]) == 0 {
				p(" — |")
				continue
			}
			p(" %.2f |", median(ca.rounds[i])/median(cr.rounds[i]))
		}
		p("\n")
	}
}

func (b *bench) notes(p func(string, ...any)) {
	p("\n## Notes\n\n")
	if b.hideNote != "" {
		p("- crun: %s\n", b.hideNote)
	}
	if b.seccompNote != "" {
		p("- seccomp: %s\n", b.seccompNote)
	}
	var cold []string
	for _, n := range names {
		if r := b.rt(n); r != nil && r.coldSecc > 0 {
			cold = append(cold, fmt.Sprintf("%s %s ms", n, num(r.coldSecc)))
		}
	}
	if len(cold) > 0 {
		p("- the first `run` with the seccomp profile (warm-up, before round 1; a runtime with a filter cache compiles here): %s\n", strings.Join(cold, ", "))
	}
	for _, n := range names {
		if r := b.rt(n); r != nil {
			for _, note := range r.notes {
				p("- %s: %s\n", n, oneLine(note))
			}
		}
	}
	for _, n := range names {
		if r := b.rt(n); r != nil && r.runNote != "" {
			p("- a successful `%s run` printed: `%s`\n", n, oneLine(r.runNote))
		}
	}
	p("- wait for exit: from `start` returning to the init's pidfd polling readable (the driver is a child subreaper and reaps it)\n")
	p("- `exec -t`: detached with a console socket, as containerd's shim and conmon call it; the driver receives the pty master, waits for the process to exit and closes it (the wait is not timed)\n")
	p("- every command runs through `spawn` (tests/bench/spawn.c, started by the driver on the runtime's worker thread, stdio to a file), which times it with the monotonic clock from posix_spawn to reaped exit and reports its wait4 rusage\n")
}

// chartData: the data files of the chart, by name: latency medians (ms),
// peak RSS medians (MiB), containers per second per level of parallel
// loops, and the cost curves (ms per command per level).
func (b *bench) chartData() map[string]string {
	files := map[string]string{}
	bars := func(group string, div float64) string {
		var sb strings.Builder
		sb.WriteString("# label casco runc crun \"casco/crun ratio\"\n")
		for _, r := range b.rows {
			if r.group != group || r.chart == "" || len(r.per) == 0 {
				continue
			}
			fmt.Fprintf(&sb, "%q", r.chart)
			for _, n := range names {
				s := r.per[n]
				if s == nil || len(flatten(s.rounds)) == 0 {
					sb.WriteString(" ?")
					continue
				}
				fmt.Fprintf(&sb, " %.3f", median(flatten(s.rounds))/div)
			}
			if x := ratio(r, "casco", "crun"); x != "—" {
				fmt.Fprintf(&sb, " \"%s\"\n", x)
			} else {
				sb.WriteString(" \"\"\n")
			}
		}
		return sb.String()
	}
	files["latency.dat"] = bars("", 1)
	files["rss.dat"] = bars("rss", 1024)

	var par strings.Builder
	par.WriteString("# loops casco runc crun (containers per second)\n")
	for _, l := range b.loops {
		r := b.row(parKey(l))
		fmt.Fprintf(&par, "%d", l)
		for _, n := range names {
			s := r.per[n]
			if s == nil || len(flatten(s.rounds)) == 0 {
				par.WriteString(" ?")
				continue
			}
			fmt.Fprintf(&par, " %.2f", float64(l*b.perLoop(l))/median(flatten(s.rounds))*1000)
		}
		par.WriteString("\n")
	}
	files["par.dat"] = par.String()

	var sc strings.Builder
	sc.WriteString("# containers")
	for _, c := range scaleCmds {
		for _, n := range names {
			fmt.Fprintf(&sc, " %s-%s", c, n)
		}
	}
	sc.WriteString("\n")
	for _, l := range b.levels {
		fmt.Fprintf(&sc, "%d", l)
		for _, c := range scaleCmds {
			for _, n := range names {
				s := b.row(scaleKey(c, l)).per[n]
				if s == nil || len(flatten(s.rounds)) == 0 {
					sc.WriteString(" ?")
					continue
				}
				fmt.Fprintf(&sc, " %.3f", median(flatten(s.rounds)))
			}
		}
		sc.WriteString("\n")
	}
	files["scale.dat"] = sc.String()
	return files
}

func machine() string {
	var u unix.Utsname
	unix.Uname(&u)
	cpu := "?"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "model name") {
				if i := strings.Index(l, ":"); i >= 0 {
					cpu = strings.TrimSpace(l[i+1:])
				}
				break
			}
		}
	}
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb float64
		fmt.Sscanf(strings.SplitN(string(b), "\n", 2)[0], "MemTotal: %f kB", &kb)
		mem = fmt.Sprintf(", %.1f GiB RAM", kb/(1<<20))
	}
	cg := "cgroup v1"
	if isHybrid() {
		cg = "cgroups v1 hybrid (cgroup2 at /sys/fs/cgroup/unified)"
	} else if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		cg = "cgroup v2"
	}
	return fmt.Sprintf("nproc %d (%s)%s, kernel %s, %s, %s", runtime.NumCPU(), cpu, mem,
		unix.ByteSliceToString(u.Release[:]), cg, distro())
}

func distro() string {
	b, err := os.ReadFile("/etc/os-release")
	if err != nil {
		return "?"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "PRETTY_NAME="); ok {
			return strings.Trim(v, `"`)
		}
	}
	return "?"
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	s = strings.ReplaceAll(s, "|", "\\|")
	if len(s) > 1200 {
		s = s[:1200] + "…"
	}
	return s
}
