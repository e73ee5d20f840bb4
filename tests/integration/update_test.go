package integration

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// `update` changes a running container's cgroup limits: the tests read the
// control files of the init's cgroup (found through /proc/<pid>/cgroup),
// on v1 and v2.

// cgroupFile is the path of control file name in process pid's cgroup of
// v1 controller ctrl (pass "" on cgroup v2).
func cgroupFile(t *testing.T, pid int, ctrl, name string) string {
	t.Helper()
	mnt, ok := cgroupMounts(t)[ctrl]
	if !ok {
		t.Fatalf("no %q cgroup hierarchy mounted", ctrl)
	}
	cgs, err := procCgroups(pid)
	if err != nil {
		t.Fatal(err)
	}
	p, ok := cgs[ctrl]
	if !ok {
		t.Fatalf("process %d has no %q cgroup: %v", pid, ctrl, cgs)
	}
	return filepath.Join(mnt, p, name)
}

// limits reads what the kernel holds for the limits these tests change,
// with v1 and v2 files mapped onto the same keys: memory (bytes), pids,
// quota and period (cpu.cfs_*_us, or the two halves of cpu.max), shares
// (cpu.shares, or cpu.weight on v2).
func limits(t *testing.T, pid int) map[string]string {
	t.Helper()
	read := func(ctrl, name string) string {
		t.Helper()
		data, err := os.ReadFile(cgroupFile(t, pid, ctrl, name))
		if err != nil {
			t.Fatalf("%v", err)
		}
		return strings.TrimSpace(string(data))
	}
	if isCgroup2() {
		quota, period, _ := strings.Cut(read("", "cpu.max"), " ")
		return map[string]string{
			"memory": read("", "memory.max"),
			"pids":   read("", "pids.max"),
			"quota":  quota,
			"period": period,
			"shares": read("", "cpu.weight"),
		}
	}
	return map[string]string{
		"memory": read("memory", "memory.limit_in_bytes"),
		"pids":   read("pids", "pids.max"),
		"quota":  read("cpu", "cpu.cfs_quota_us"),
		"period": read("cpu", "cpu.cfs_period_us"),
		"shares": read("cpu", "cpu.shares"),
	}
}

// shares is what cpu.shares s reads back as: itself on v1, cpu.weight on
// v2 (runc's conversion, which casco shares).
func shares(s uint64) string {
	if isCgroup2() {
		return strconv.FormatUint(1+((s-2)*9999)/262142, 10)
	}
	return strconv.FormatUint(s, 10)
}

// checkLimits compares the kernel's limits with want (only the keys given).
func checkLimits(t *testing.T, pid int, when string, want map[string]string) {
	t.Helper()
	got := limits(t, pid)
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: %s limit is %q, want %q (all: %v)", when, k, got[k], w, got)
		}
	}
}

// limitedBundle is a sleeper with a memory, pids and CPU limit.
func limitedBundle(t *testing.T) *bundle {
	b := newBundle(t, sleeper...)
	mem, period, shares := int64(64<<20), uint64(100000), uint64(512)
	b.Spec.Linux.Resources.Memory = &specs.LinuxMemory{Limit: &mem}
	b.Spec.Linux.Resources.Pids = &specs.LinuxPids{Limit: i64(42)}
	b.Spec.Linux.Resources.CPU = &specs.LinuxCPU{Quota: i64(50000), Period: &period, Shares: &shares}
	return b
}

var initialLimits = map[string]string{"memory": strconv.Itoa(64 << 20), "pids": "42", "quota": "50000", "period": "100000", "shares": shares(512)}

// runStdin runs the runtime like r.run, with stdin from the given string.
func (r *runtime) runStdin(stdin string, args ...string) result {
	full := append([]string{"--root", r.root}, args...)
	res := result{Args: append([]string{filepath.Base(runtimeBin)}, full...), Code: -1}
	ctx, cancel := context.WithTimeout(context.Background(), defaultTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, runtimeBin, full...)
	var stdout, stderr bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = strings.NewReader(stdin), &stdout, &stderr
	err := cmd.Run()
	res.Stdout, res.Stderr = stdout.String(), stderr.String()
	if cmd.ProcessState != nil {
		res.Code = cmd.ProcessState.ExitCode()
		if _, isExit := err.(*exec.ExitError); isExit && ctx.Err() == nil {
			err = nil
		}
	}
	res.Err = err
	return res
}

// TestUpdate: each flag reaches its control file, the others stay.
func TestUpdate(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	c, s := r.createStart(limitedBundle(t))
	checkLimits(t, s.Pid, "after create", initialLimits)

	r.mustRun("update", "--memory", "32m", "--cpu-quota", "25000", "--pids-limit", "17", c.ID)
	checkLimits(t, s.Pid, "update --memory 32m --cpu-quota 25000 --pids-limit 17",
		map[string]string{"memory": strconv.Itoa(32 << 20), "pids": "17", "quota": "25000", "period": "100000", "shares": shares(512)})

	// A period alone keeps the quota (on v2 both live in cpu.max, so the
	// runtime must remember the quota it set).
	r.mustRun("update", "--cpu-period", "200000", "--cpu-share", "1024", c.ID)
	checkLimits(t, s.Pid, "update --cpu-period 200000 --cpu-share 1024",
		map[string]string{"memory": strconv.Itoa(32 << 20), "pids": "17", "quota": "25000", "period": "200000", "shares": shares(1024)})

	// Plain bytes and "unlimited".
	r.mustRun("update", "--memory", strconv.Itoa(48<<20), "--pids-limit", "-1", "--cpu-quota", "-1", c.ID)
	unlimitedQuota := "-1"
	if isCgroup2() {
		unlimitedQuota = "max"
	}
	checkLimits(t, s.Pid, "update --memory 48MiB --pids-limit -1 --cpu-quota -1",
		map[string]string{"memory": strconv.Itoa(48 << 20), "pids": "max", "quota": unlimitedQuota, "period": "200000"})

	// A paused container can be updated too.
	r.mustRun("pause", c.ID)
	r.mustRun("update", "--pids-limit", "33", c.ID)
	checkLimits(t, s.Pid, "update --pids-limit 33 while paused", map[string]string{"pids": "33"})
	r.mustRun("resume", c.ID)
	if st := r.mustState(c.ID); st.Status != "running" {
		t.Errorf("status after update and resume is %q, want running", st.Status)
	}
}

// TestUpdateResources: --resources takes a LinuxResources JSON from stdin
// or a file; zero-valued fields (engines send them) leave their limits
// alone.
func TestUpdateResources(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	c, s := r.createStart(limitedBundle(t))

	zeros := `{"memory":{"limit":0,"reservation":0,"swap":0},` +
		`"cpu":{"shares":0,"quota":0,"period":0,"realtimeRuntime":0,"realtimePeriod":0,"cpus":"","mems":""},` +
		`"blockIO":{"weight":0},"pids":{"limit":99}}`
	if res := r.runStdin(zeros, "update", "--resources", "-", c.ID); res.Err != nil || res.Code != 0 {
		t.Fatalf("update --resources - failed: %s", res)
	}
	want := map[string]string{}
	for k, v := range initialLimits {
		want[k] = v
	}
	want["pids"] = "99"
	checkLimits(t, s.Pid, "update --resources - with zeros and pids 99", want)

	file := filepath.Join(t.TempDir(), "resources.json")
	mustWrite(t, file, fmt.Sprintf(`{"memory":{"limit":%d},"cpu":{"quota":20000}}`, 40<<20))
	r.mustRun("update", "--resources", file, c.ID)
	want["memory"], want["quota"] = strconv.Itoa(40<<20), "20000"
	checkLimits(t, s.Pid, "update --resources FILE", want)

	// Not JSON: refused, nothing changes.
	if res := r.runStdin("{not json", "update", "--resources", "-", c.ID); res.Code < 1 {
		t.Errorf("update --resources with bad JSON: want a non-zero exit: %s", res)
	}
	checkLimits(t, s.Pid, "after a refused update", want)
}

// TestUpdateErrors: a value the kernel refuses gives one error naming the
// control file, exit 1, and leaves the limits as they were; a stopped
// container cannot be updated; Intel RDT is refused.
func TestUpdateErrors(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	c, s := r.createStart(limitedBundle(t))

	// The kernel's minimum CFS period is 1000us.
	res := r.mustFail([]string{"cpu.cfs_period_us", "cpu.max"}, "update", "--cpu-period", "1", c.ID)
	if res.Code != 1 {
		t.Errorf("want exit 1: %s", res)
	}
	if !mentions(res.Stderr, "invalid argument") {
		t.Errorf("stderr should give the kernel's reason (invalid argument): %s", res)
	}
	if n := len(lines(res.Stderr)); n != 1 && !knownRuncBug(t, "runc also warns that putting the old values back failed") {
		t.Errorf("want one error line, got %d: %s", n, res)
	}
	checkLimits(t, s.Pid, "after a rejected --cpu-period", initialLimits)

	// The memory is written before the CPU: when the CPU value is refused,
	// the memory limit is put back.
	r.mustFail([]string{"cpu.cfs_period_us", "cpu.max"}, "update", "--memory", "32m", "--cpu-period", "1", c.ID)
	if !knownRuncBug(t, "runc (1.1 to 1.5) keeps the new memory limit when a later value of the same update is refused") {
		checkLimits(t, s.Pid, "after an update whose --cpu-period was rejected", initialLimits)
	}

	r.mustFail([]string{"not supported", "not enabled"}, "update", "--l3-cache-schema", "L3:0=f", c.ID)
	r.mustFail([]string{"not supported", "not enabled"}, "update", "--mem-bw-schema", "MB:0=50", c.ID)
	r.mustFail([]string{"invalid", "memory"}, "update", "--memory", "lots", c.ID)
	r.mustFail([]string{"does not exist"}, "update", "--memory", "32m", "ct-missing")

	proc := identify(s.Pid)
	r.mustRun("kill", c.ID, "KILL")
	waitGone(t, proc)
	r.waitStatus(c.ID, "stopped")
	r.mustFail([]string{"not running", "stopped"}, "update", "--pids-limit", "10", c.ID)
}

// TestUpdateCheckBeforeUpdate: with memory.checkBeforeUpdate, a limit
// below what the cgroup already uses is refused by name, and the kernel's
// limit stays as it was (without it the kernel would reclaim or OOM-kill).
func TestUpdateCheckBeforeUpdate(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	c, s := r.createStart(limitedBundle(t))
	res := r.runStdin(`{"memory":{"limit":65536,"checkBeforeUpdate":true}}`, "update", "--resources", "-", c.ID)
	// "usage": the container's id already holds the test's name
	if res.Code == 0 || !mentions(res.Stderr, "usage") {
		t.Errorf("a limit below the usage with checkBeforeUpdate: want a refusal naming the usage: %s", res)
	}
	checkLimits(t, s.Pid, "after a refused checkBeforeUpdate", map[string]string{"memory": initialLimits["memory"]})
}
