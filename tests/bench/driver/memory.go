package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// What a runtime costs a node in memory, beside the peak RSS of its
// commands (mostly file pages the page cache shares): the memory a created
// container holds before `start`, the private memory of each command, and
// the smallest memory limit under which a container still runs.

// ussCommands: the commands whose private memory the step measures, in the
// order it runs them on one container (`run` on a container of its own).
var ussCommands = []string{"run", "create", "start", "state", "exec", "kill", "delete"}

func memoryStep() step {
	rows := []*row{{key: "mem:parked", title: "parked init PSS", unit: "KiB", group: "mem"},
		{key: "mem:parked-uss", title: "parked init USS", unit: "KiB", group: "mem"}}
	for _, c := range ussCommands {
		rows = append(rows, &row{key: "mem:uss:" + c, title: "USS `" + c + "`", unit: "KiB", group: "mem"})
	}
	for _, c := range ussCommands {
		rows = append(rows, &row{key: "mem:dirty:" + c, title: "Private_Dirty `" + c + "`", unit: "KiB", group: "memdirty"})
	}
	rows = append(rows,
		&row{key: "mem:floor", title: "minimal memory limit", unit: "KiB", group: "mem"},
		&row{key: "mem:rss:run", title: "peak RSS `run`", unit: "KiB", group: "mem"})
	return step{name: "memory", rows: rows, run: (*bench).memory}
}

// memory: k containers parked at once (PSS and USS per container of what
// each leaves on the host), peak RSS of `run`, the commands traced one by
// one (USS at their exit), and, in the first round, the minimal memory
// limit by bisection.
func (b *bench) memory(r *rt, round int) (map[string][]float64, error) {
	out := map[string][]float64{}
	k := max(2, min(b.n, 5))
	pss, priv, err := b.parked(r, round, k)
	if err != nil {
		return out, err
	}
	out["mem:parked"], out["mem:parked-uss"] = []float64{pss}, []float64{priv}
	for i := 0; i < k; i++ {
		r.w.do(func() { _, err = r.w.cmd("run", "--bundle", b.bundle("run"), b.id(round, "memrun", r, i)) })
		if err != nil {
			return out, err
		}
		out["mem:rss:run"] = append(out["mem:rss:run"], r.w.last.maxRSS)
	}
	for i := 0; i < k; i++ {
		if err := b.ussRound(r, b.id(round, "uss", r, i), out); err != nil {
			return out, err
		}
	}
	if round == 0 {
		floor, err := b.memFloor(r, round)
		if err != nil {
			return out, err
		}
		out["mem:floor"] = []float64{floor}
	}
	return out, nil
}

// parked creates k containers and, with all k parked, sums the PSS and the
// USS of every process in each one's memory cgroup (the init; runc's parked
// `runc init` is that init); it returns both per container and deletes the
// containers. Parked together, the inits share their binary's pages as a
// node's do, and PSS divides those between them.
func (b *bench) parked(r *rt, round, k int) (pss, priv float64, err error) {
	var pidfds []int
	var ids []string
	defer func() {
		for i, id := range ids {
			var derr error
			r.w.do(func() { _, derr = r.w.cmd("delete", "--force", id) })
			if derr == nil {
				derr = waitExitWithin(pidfds[i], 10*time.Second)
			}
			if err == nil && derr != nil {
				err = derr
			}
			unix.Close(pidfds[i])
		}
	}()
	pidFile := filepath.Join(b.tmp, "pid-"+r.Name)
	for i := 0; i < k; i++ {
		id := b.id(round, "park", r, i)
		os.Remove(pidFile)
		r.w.do(func() { _, err = r.w.cmd("create", "--bundle", b.bundle("sleep"), "--pid-file", pidFile, id) })
		if err != nil {
			return 0, 0, err
		}
		pidfd, err := readPidFile(pidFile)
		if err != nil {
			r.w.cleanup()
			return 0, 0, err
		}
		ids, pidfds = append(ids, id), append(pidfds, pidfd)
	}
	for i, pidfd := range pidfds {
		pids, err := cgroupProcs(pidOf(pidfd))
		if err != nil {
			return 0, 0, fmt.Errorf("parked init of %s: %w", ids[i], err)
		}
		for _, pid := range pids {
			f, err := readSmapsRollup(pid)
			if err != nil {
				return 0, 0, fmt.Errorf("parked init of %s: %w", ids[i], err)
			}
			pss += f["Pss"]
			priv += uss(f)
		}
	}
	return pss / float64(k), priv / float64(k), nil
}

// cgroupProcs: the processes in the memory cgroup of pid (cgroup v1's
// memory hierarchy, else the unified one).
func cgroupProcs(pid int) ([]int, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return nil, err
	}
	dir := ""
	for _, l := range strings.Split(string(data), "\n") {
		f := strings.SplitN(l, ":", 3)
		if len(f) != 3 {
			continue
		}
		if f[1] == "memory" || (f[0] == "0" && f[1] == "" && dir == "") {
			base := "/sys/fs/cgroup/memory"
			if f[1] == "" {
				base = "/sys/fs/cgroup/unified"
				if isCgroup2Root() {
					base = "/sys/fs/cgroup"
				}
			}
			dir = filepath.Join(base, f[2])
		}
	}
	if dir == "" {
		return []int{pid}, nil
	}
	procs, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, s := range strings.Fields(string(procs)) {
		if p, err := strconv.Atoi(s); err == nil {
			pids = append(pids, p)
		}
	}
	if len(pids) == 0 {
		return nil, fmt.Errorf("%s/cgroup.procs is empty", dir)
	}
	return pids, nil
}

func isCgroup2Root() bool {
	var st unix.Statfs_t
	return unix.Statfs("/sys/fs/cgroup", &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC
}

func readSmapsRollup(pid int) (map[string]float64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return nil, err
	}
	return parseSmapsRollup(data)
}

// parseSmapsRollup: the "Name: N kB" fields of /proc/PID/smaps_rollup, in KiB.
func parseSmapsRollup(data []byte) (map[string]float64, error) {
	out := map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			continue // the header line: the address range and [rollup]
		}
		v, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			return nil, fmt.Errorf("smaps_rollup %s: %q", name, rest)
		}
		out[name] = v
	}
	if _, ok := out["Pss"]; !ok {
		return nil, fmt.Errorf("smaps_rollup: no Pss field")
	}
	return out, nil
}

func uss(f map[string]float64) float64 { return f["Private_Clean"] + f["Private_Dirty"] }

// ussRound: run, then create, start, state, exec, kill, delete on one
// container, each traced.
func (b *bench) ussRound(r *rt, id string, out map[string][]float64) error {
	pidFile := filepath.Join(b.tmp, "pid-"+r.Name)
	os.Remove(pidFile)
	steps := [][]string{
		{"run", "--bundle", b.bundle("run"), id + "-run"},
		{"create", "--bundle", b.bundle("sleep"), "--pid-file", pidFile, id},
		{"start", id},
		{"state", id},
		{"exec", id, "/bin/true"},
		{"kill", id, "KILL"},
		{"delete", id},
	}
	pidfd := -1
	defer func() {
		if pidfd >= 0 {
			unix.Close(pidfd)
		}
	}()
	for i, args := range steps {
		if args[0] == "exec" && r.lacks["exec"] {
			continue
		}
		if args[0] == "delete" && pidfd >= 0 {
			if err := waitExitWithin(pidfd, 10*time.Second); err != nil {
				return err
			}
		}
		u, dirty, err := r.traced(b.tmp, args...)
		if err != nil {
			if i > 1 {
				r.w.cleanup()
			}
			return err
		}
		out["mem:uss:"+args[0]] = append(out["mem:uss:"+args[0]], u)
		out["mem:dirty:"+args[0]] = append(out["mem:dirty:"+args[0]], dirty)
		if args[0] == "create" {
			if pidfd, err = readPidFile(pidFile); err != nil {
				return err
			}
		}
	}
	return nil
}

// traced runs one command of the runtime under ptrace, following every
// process and thread it starts, and returns the sum over those processes
// of their USS (Private_Clean + Private_Dirty of smaps_rollup) read at
// their exit stop (PTRACE_EVENT_EXIT: the memory is still mapped), the
// largest reading per process. A process that outlives the command (a
// container's init) is not counted, and one that execs is counted as what
// it became. The tracer is a fresh thread (in crun's private mount
// namespace for crun): when it ends, the kernel detaches what is still
// traced.
func (r *rt) traced(tmp string, args ...string) (uss, dirty float64, err error) {
	tw, err := r.newWorker(tmp)
	if err != nil {
		return 0, 0, err
	}
	defer tw.close()
	var peak map[int]smapsPeak
	tw.do(func() { peak, err = tw.traceCmd(append([]string{"--root", r.Root}, args...)) })
	if err != nil {
		return 0, 0, fmt.Errorf("%s %s (traced): %w: %s", r.Name, strings.Join(args, " "), err, tw.output())
	}
	for _, p := range peak {
		uss += p.uss
		dirty += p.dirty
	}
	return uss, dirty, nil
}

// smapsPeak: a process's largest USS over its threads' exit stops, and
// the Private_Dirty (anonymous and written pages) of that reading.
type smapsPeak struct{ uss, dirty float64 }

func (w *worker) traceCmd(args []string) (map[int]smapsPeak, error) {
	null, err := os.Open(os.DevNull)
	if err != nil {
		return nil, err
	}
	defer null.Close()
	p, err := os.StartProcess(w.rt.Bin, append([]string{w.rt.Bin}, args...), &os.ProcAttr{
		Files: []*os.File{null, w.out, w.out}, Sys: &syscall.SysProcAttr{Ptrace: true}})
	if err != nil {
		return nil, err
	}
	pid := p.Pid
	p.Release()
	// every wait has a deadline: a command that hangs is killed
	timer := time.AfterFunc(60*time.Second, func() { unix.Kill(pid, unix.SIGKILL) })
	defer timer.Stop()
	var ws unix.WaitStatus
	if _, err := unix.Wait4(pid, &ws, unix.WALL, nil); err != nil {
		return nil, fmt.Errorf("wait4: %w", err)
	}
	if !ws.Stopped() {
		return nil, fmt.Errorf("did not stop at exec: status %v", ws)
	}
	opts := unix.PTRACE_O_TRACEEXIT | unix.PTRACE_O_TRACEFORK | unix.PTRACE_O_TRACEVFORK |
		unix.PTRACE_O_TRACECLONE | unix.PTRACE_O_TRACEEXEC
	if err := unix.PtraceSetOptions(pid, opts); err != nil {
		return nil, fmt.Errorf("PTRACE_SETOPTIONS: %w", err)
	}
	peak := map[int]smapsPeak{} // by tgid
	seen := map[int]bool{pid: true}
	unix.PtraceCont(pid, 0)
	for {
		wpid, err := unix.Wait4(-1, &ws, unix.WALL, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("wait4: %w", err)
		}
		if ws.Exited() || ws.Signaled() {
			if wpid != pid {
				continue
			}
			if !ws.Exited() || ws.ExitStatus() != 0 {
				return nil, fmt.Errorf("status %v", ws)
			}
			break
		}
		if !ws.Stopped() {
			continue
		}
		sig := ws.StopSignal()
		switch {
		case sig == unix.SIGTRAP && ws.TrapCause() == unix.PTRACE_EVENT_EXIT:
			if f, err := readSmapsRollup(wpid); err == nil {
				if tg := tgidOf(wpid); uss(f) > peak[tg].uss {
					peak[tg] = smapsPeak{uss: uss(f), dirty: f["Private_Dirty"]}
				}
			}
			sig = 0
		case sig == unix.SIGTRAP && ws.TrapCause() > 0:
			sig = 0
		case sig == unix.SIGSTOP && !seen[wpid]:
			sig = 0 // a new tracee's first stop
		}
		seen[wpid] = true
		unix.PtraceCont(wpid, int(sig))
	}
	return peak, nil
}

func tgidOf(tid int) int {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", tid))
	if err != nil {
		return tid
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "Tgid:"); ok {
			if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
				return n
			}
		}
	}
	return tid
}

// memFloor: the smallest linux.resources.memory.limit, in 4 KiB steps
// between 64 KiB and 64 MiB, under which `run /bin/true` succeeds.
func (b *bench) memFloor(r *rt, round int) (float64, error) {
	data, err := os.ReadFile(filepath.Join(b.bundle("run"), "config.json"))
	if err != nil {
		return 0, err
	}
	dir := filepath.Join(b.tmp, "floor-"+r.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, err
	}
	try := 0
	ok := func(limit int64) (bool, error) {
		var c map[string]any
		if err := json.Unmarshal(data, &c); err != nil {
			return false, fmt.Errorf("run bundle config: %w", err)
		}
		linux, _ := c["linux"].(map[string]any)
		if linux == nil {
			linux = map[string]any{}
			c["linux"] = linux
		}
		res, _ := linux["resources"].(map[string]any)
		if res == nil {
			res = map[string]any{}
			linux["resources"] = res
		}
		res["memory"] = map[string]any{"limit": limit}
		out, _ := json.Marshal(c)
		if err := os.WriteFile(filepath.Join(dir, "config.json"), out, 0o644); err != nil {
			return false, err
		}
		try++
		var rerr error
		r.w.do(func() { _, rerr = r.w.cmd("run", "--bundle", dir, b.id(round, "floor", r, try)) })
		if rerr != nil {
			r.w.cleanup()
			return false, nil
		}
		return true, nil
	}
	const page = 4 << 10
	lo, hi := int64(64<<10), int64(64<<20)
	if good, err := ok(hi); err != nil || !good {
		return 0, fmt.Errorf("`run` fails even under a 64 MiB limit: %s", r.w.output())
	}
	if good, err := ok(lo); err != nil {
		return 0, err
	} else if good {
		return float64(lo) / 1024, nil
	}
	for hi-lo > page {
		mid := (lo + hi) / 2 / page * page
		good, err := ok(mid)
		if err != nil {
			return 0, err
		}
		if good {
			hi = mid
		} else {
			lo = mid
		}
	}
	return float64(hi) / 1024, nil
}

// memoryTable: one line per runtime, its medians over all rounds in KiB.
func (b *bench) memoryTable(p func(string, ...any)) {
	var rows []*row
	for _, r := range b.rows {
		if r.group == "mem" && len(r.per) > 0 {
			rows = append(rows, r)
		}
	}
	if len(rows) == 0 {
		return
	}
	p("\n## Memory (KiB)\n\n")
	p("Parked init PSS and USS: with 5 containers `create`d at once (a `sleep` bundle; `BENCH_N` if smaller), the sum of the PSS (`/proc/PID/smaps_rollup`), and of the USS, of every process in each container's memory cgroup, divided by the containers: what each parked container holds, its share of the pages the parked inits share, and what it alone holds. ")
	p("USS of a command: the driver runs it under ptrace (PTRACE_O_TRACEEXIT, following forks, clones and execs) and, at each process's exit stop, reads its `smaps_rollup`; ")
	p("the USS is Private_Clean + Private_Dirty, and a command's figure is the sum over the processes it started that exited before it (a process that execs counts as what it became; a container init that outlives the command is the parked init's figure). ")
	p("`run` and `exec` include the container process (/bin/true). ")
	p("Private_Clean counts the binary's file pages that no other process maps at that moment: a runtime whose commands rarely overlap pays them per command, while concurrent invocations share them. ")
	p("Minimal limit: the smallest `linux.resources.memory.limit` (cgroup v1 `memory.limit_in_bytes`), bisected in 4 KiB steps between 64 KiB and 64 MiB, under which `run /bin/true` exits 0. ")
	p("Peak RSS: the `run` command's wait4 `ru_maxrss` as in the RSS table. Cells: median (minimum).\n\n")
	b.perRuntime(p, rows)
	var dirty []*row
	for _, r := range b.rows {
		if r.group == "memdirty" && len(r.per) > 0 {
			dirty = append(dirty, r)
		}
	}
	p("\nThe Private_Dirty part of those USS figures (the memory the commands wrote: heap, stacks, data; the rest, Private_Clean, is file pages only this command mapped at the time, mostly its binary's):\n\n")
	b.perRuntime(p, dirty)
}

// perRuntime: a table with one line per runtime and one column per row.
func (b *bench) perRuntime(p func(string, ...any), rows []*row) {
	p("| runtime |")
	for _, r := range rows {
		p(" %s |", r.title)
	}
	p("\n|---|")
	for range rows {
		p("---:|")
	}
	p("\n")
	for _, n := range names {
		if b.rt(n) == nil {
			continue
		}
		p("| %s |", n)
		for _, r := range rows {
			p(" %s |", kibCell(r.per[n]))
		}
		p("\n")
	}
}

func kibCell(s *series) string {
	if s == nil {
		return "not run"
	}
	all := flatten(s.rounds)
	if len(all) == 0 {
		if s.err != "" {
			return "failed"
		}
		return "not run"
	}
	if med, mn := median(all), minimum(all); med != mn {
		return fmt.Sprintf("%.0f (%.0f)", med, mn)
	}
	return fmt.Sprintf("%.0f", median(all))
}
