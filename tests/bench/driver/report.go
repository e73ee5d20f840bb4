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

func (b *bench) rowTitle(r *row) string {
	if r.key == "parallel" {
		return fmt.Sprintf("%d parallel loops × %d `run` (wall)", b.parallel, b.n/2)
	}
	return r.title
}

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

func (b *bench) markdown() string {
	var sb strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&sb, format, args...) }
	names := []string{"casco", "runc", "crun"}

	p("# casco vs runc vs crun\n\n")
	p("%s, %d rounds, n = %d per step and round, interleaved (each round runs every step for casco, then runc, then crun).\n\n",
		b.started.UTC().Format("2006-01-02 15:04 UTC"), b.rounds, b.n)
	p("| | |\n|---|---|\n")
	p("| machine | %s |\n", machine())
	p("| load average (1, 5, 15 min) | start %s · end %s |\n", b.loadStart, b.loadEnd)
	for _, n := range names {
		if r := b.rt(n); r != nil {
			p("| %s | %s (`%s`) |\n", n, r.Version, r.Bin)
		}
	}
	p("| bundle | `runc spec`, terminal false, args `/bin/true`, busybox-static rootfs (read-only), one config.json for all three |\n")
	p("| duration | %s |\n\n", time.Since(b.started).Round(time.Second))

	p("Each runtime cell: median (minimum) over all rounds' samples, in ms unless marked. ")
	p("Ratios: the median of the per-round ratios of medians (computed within each round, so all three ran under the same load); below 1 means casco is faster.\n\n")
	p("| scenario | casco | runc | crun | casco/crun | casco/runc | runc/crun |\n")
	p("|---|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range b.rows {
		if len(r.per) == 0 {
			continue
		}
		p("| %s | %s | %s | %s | %s | %s | %s |\n", b.rowTitle(r),
			cell(r, r.per["casco"]), cell(r, r.per["runc"]), cell(r, r.per["crun"]),
			ratio(r, "casco", "crun"), ratio(r, "casco", "runc"), ratio(r, "runc", "crun"))
		if r.key == "parallel" {
			b.perContainerRow(p, r)
		}
	}
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
	p("| binary size (file; casco static, runc and crun link libseccomp and libc dynamically, crun also libcap, libyajl, libsystemd, …) | %s | %s | %s | %s | %s | %s |\n\n",
		sz("casco"), sz("runc"), sz("crun"), rt("casco", "crun"), rt("casco", "runc"), rt("runc", "crun"))

	// failures and notes
	var notes []string
	for _, r := range b.rows {
		for _, n := range names {
			if s := r.per[n]; s != nil && s.err != "" {
				notes = append(notes, fmt.Sprintf("%s, %s: %s", b.rowTitle(r), n, s.err))
			}
		}
	}
	if len(notes) > 0 {
		p("Failures († = failed in a later round; the samples are those before):\n\n")
		seen := map[string]bool{}
		for _, n := range notes {
			if !seen[n] {
				p("- %s\n", oneLine(n))
				seen[n] = true
			}
		}
		p("\n")
	}

	p("## Per-round casco/crun ratios\n\n")
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
		if ca == nil || cr == nil {
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
	p("- peak RSS: GNU time's %%M, the maximum resident set of the runtime process and of the children it waited for (for runc, its `runc init`)\n")
	p("- every command is executed by the driver itself (Go os/exec, stdio to a file), timed with the monotonic clock from fork to reaped exit\n")
	return sb.String()
}

func (b *bench) perContainerRow(p func(string, ...any), r *row) {
	vals := map[string]string{}
	per := float64(b.parallel * (b.n / 2))
	for _, n := range []string{"casco", "runc", "crun"} {
		s := r.per[n]
		if s == nil || len(flatten(s.rounds)) == 0 {
			vals[n] = "—"
			continue
		}
		vals[n] = num(median(flatten(s.rounds)) / per)
	}
	p("| … the same per container (wall / %d) | %s | %s | %s | | | |\n", int(per), vals["casco"], vals["runc"], vals["crun"])
}

// chartData: one line per charted quantity, medians in ms of casco, runc,
// crun ("?" where missing).
func (b *bench) chartData() string {
	var sb strings.Builder
	sb.WriteString("# label casco runc crun (median ms) \"casco/crun ratio\"\n")
	for _, r := range b.rows {
		label := r.chart
		div := 1.0
		if r.key == "parallel" {
			label = fmt.Sprintf("%d parallel, per ctr", b.parallel)
			div = float64(b.parallel * (b.n / 2))
		}
		if label == "" || len(r.per) == 0 {
			continue
		}
		fmt.Fprintf(&sb, "%q", label)
		for _, n := range []string{"casco", "runc", "crun"} {
			s := r.per[n]
			if s == nil || len(flatten(s.rounds)) == 0 {
				sb.WriteString(" ?")
				continue
			}
			fmt.Fprintf(&sb, " %.3f", median(flatten(s.rounds))/div)
		}
		if x := ratio(r, "casco", "crun"); x != "—" {
			fmt.Fprintf(&sb, " \"casco/crun %s\"\n", x)
		} else {
			sb.WriteString(" \"\"\n")
		}
	}
	return sb.String()
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
