package integration

// `update` in the corners (issue 12): the order of the writes where the
// kernel checks one value against another (a period against the budget in
// it, a child against its parent), and what an update does to the device
// rules. Run against runc and casco; the kernel's files are the judge.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// podCgroup makes a parent cgroup ("a pod") in the v1 cpu hierarchy, sets
// its files in the order given (parent first: the kernel measures a child
// against it), and returns the container's cgroupsPath below it and the
// pod's directory. The pod goes once the container is deleted.
func podCgroup(t *testing.T, files ...[2]string) (string, string) {
	t.Helper()
	if isCgroup2() {
		t.Skip("cgroup v2 sets a quota and its period in one write (cpu.max): no order to get wrong")
	}
	cpu, ok := cgroupMounts(t)["cpu"]
	if !ok {
		t.Skip("no v1 cpu hierarchy here")
	}
	pod := "casco-test-" + newID(t) + "-pod"
	dir := filepath.Join(cpu, pod)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// registered before the container's own cleanup, so it runs after it
	t.Cleanup(func() { removePod(t, pod) })
	for _, f := range files {
		if _, err := os.Stat(filepath.Join(dir, f[0])); err != nil {
			t.Skipf("%s: %v (the kernel lacks this control)", f[0], err)
		}
		mustWrite(t, filepath.Join(dir, f[0]), f[1])
	}
	return "/" + pod + "/ctr", dir
}

// removePod removes the pod's directory from every hierarchy the runtime
// made it in.
func removePod(t *testing.T, pod string) {
	seen := map[string]bool{}
	for _, mnt := range cgroupMounts(t) {
		if dir := filepath.Join(mnt, pod); !seen[dir] {
			seen[dir] = true
			if err := os.Remove(dir); err != nil && !os.IsNotExist(err) {
				t.Errorf("remove pod cgroup: %v", err)
			}
		}
	}
}

func wantFiles(t *testing.T, dir, when string, want map[string]string) {
	t.Helper()
	for f, w := range want {
		if got := strings.TrimSpace(readFileString(filepath.Join(dir, f))); got != w {
			t.Errorf("%s: %s = %q, want %q", when, f, got, w)
		}
	}
}

// TestContractUpdateCPUInPod: in a pod whose own quota is half a CPU, a
// container at a quarter moves to a shorter period and a smaller quota.
// Period first (40000 with the old quota 25000) would exceed the pod's
// half CPU, and the kernel refuses it (EINVAL); runc then writes the quota
// first and the period again. casco must end where runc does.
func TestContractUpdateCPUInPod(t *testing.T) {
	t.Parallel()
	cgPath, pod := podCgroup(t, [2]string{"cpu.cfs_period_us", "100000"}, [2]string{"cpu.cfs_quota_us", "50000"})
	r := newRuntime(t)
	b := newBundle(t, sleeper...)
	period := uint64(100000)
	b.Spec.Linux.CgroupsPath = cgPath
	b.Spec.Linux.Resources.CPU = &specs.LinuxCPU{Period: &period, Quota: i64(25000)}
	c, _ := r.createStart(b)
	ctr := filepath.Join(pod, "ctr")
	wantFiles(t, ctr, "create", map[string]string{"cpu.cfs_period_us": "100000", "cpu.cfs_quota_us": "25000"})
	r.mustRun("update", "--cpu-period", "40000", "--cpu-quota", "10000", c.ID)
	wantFiles(t, ctr, "update --cpu-period 40000 --cpu-quota 10000", map[string]string{"cpu.cfs_period_us": "40000", "cpu.cfs_quota_us": "10000"})
	// and back up: the quota first would exceed the pod (50000 of 40000)
	r.mustRun("update", "--cpu-period", "100000", "--cpu-quota", "50000", c.ID)
	wantFiles(t, ctr, "update --cpu-period 100000 --cpu-quota 50000", map[string]string{"cpu.cfs_period_us": "100000", "cpu.cfs_quota_us": "50000"})
	// beyond the pod's limit: the kernel's refusal, reported
	r.mustFail([]string{"invalid argument"}, "update", "--cpu-quota", "80000", c.ID)
}

// TestContractUpdateRealtime: realtime period and runtime, in a pod given
// realtime time first (a child's runtime must fit in its parent's). A
// shorter period than the current runtime is refused by the kernel; the
// runtime goes first then, as runc orders the writes.
func TestContractUpdateRealtime(t *testing.T) {
	t.Parallel()
	if runcBefore12(t, "retrying the realtime period after the runtime") {
		return
	}
	cgPath, pod := podCgroup(t, [2]string{"cpu.rt_period_us", "1000000"}, [2]string{"cpu.rt_runtime_us", "200000"})
	r := newRuntime(t)
	b := newBundle(t, sleeper...)
	period := uint64(1000000)
	b.Spec.Linux.CgroupsPath = cgPath
	b.Spec.Linux.Resources.CPU = &specs.LinuxCPU{RealtimePeriod: &period, RealtimeRuntime: i64(100000)}
	c, _ := r.createStart(b)
	ctr := filepath.Join(pod, "ctr")
	wantFiles(t, ctr, "create", map[string]string{"cpu.rt_period_us": "1000000", "cpu.rt_runtime_us": "100000"})
	r.mustRun("update", "--cpu-rt-period", "50000", "--cpu-rt-runtime", "10000", c.ID)
	wantFiles(t, ctr, "update --cpu-rt-period 50000 --cpu-rt-runtime 10000", map[string]string{"cpu.rt_period_us": "50000", "cpu.rt_runtime_us": "10000"})
}
