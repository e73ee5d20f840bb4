package integration

// `update` in the corners: the order of the writes where the
// kernel checks one value against another (a period against the budget in
// it, a child against its parent), and what an update does to the device
// rules. Run against runc and casco; the kernel's files are the judge.

import (
	"os"
	"path/filepath"
	"strconv"
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

// podContainer starts a sleeper with the given CPU resources in a pod
// cgroup set up with podFiles, and returns the runtime, the container and
// its cgroup directory in the cpu hierarchy.
func podContainer(t *testing.T, cpu *specs.LinuxCPU, podFiles ...[2]string) (*runtime, *container, string) {
	t.Helper()
	cgPath, pod := podCgroup(t, podFiles...)
	r := newRuntime(t)
	b := newBundle(t, sleeper...)
	b.Spec.Linux.CgroupsPath = cgPath
	b.Spec.Linux.Resources.CPU = cpu
	c, _ := r.createStart(b)
	return r, c, filepath.Join(pod, "ctr")
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
	period := uint64(100000)
	r, c, ctr := podContainer(t, &specs.LinuxCPU{Period: &period, Quota: i64(25000)},
		[2]string{"cpu.cfs_period_us", "100000"}, [2]string{"cpu.cfs_quota_us", "50000"})
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
	period := uint64(1000000)
	r, c, ctr := podContainer(t, &specs.LinuxCPU{RealtimePeriod: &period, RealtimeRuntime: i64(100000)},
		[2]string{"cpu.rt_period_us", "1000000"}, [2]string{"cpu.rt_runtime_us", "200000"})
	wantFiles(t, ctr, "create", map[string]string{"cpu.rt_period_us": "1000000", "cpu.rt_runtime_us": "100000"})
	r.mustRun("update", "--cpu-rt-period", "50000", "--cpu-rt-runtime", "10000", c.ID)
	wantFiles(t, ctr, "update --cpu-rt-period 50000 --cpu-rt-runtime 10000", map[string]string{"cpu.rt_period_us": "50000", "cpu.rt_runtime_us": "10000"})
}

// TestContractExecLandsInCgroups: a process exec'd into a container sits in
// the init's cgroup in every hierarchy (every v1 controller of a hybrid
// host and its cgroup2 half), with and without a cgroup namespace, as the
// host's /proc/<pid>/cgroup shows.
func TestContractExecLandsInCgroups(t *testing.T) {
	t.Parallel()
	for _, cgroupns := range []bool{false, true} {
		name := "host-cgroupns"
		if cgroupns {
			name = "own-cgroupns"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := newRuntime(t)
			b := newBundle(t, sleeper...)
			b.Spec.Linux.Namespaces = withoutNS(b.Spec.Linux.Namespaces, specs.CgroupNamespace)
			if cgroupns {
				b.addNamespace(specs.CgroupNamespace)
			}
			c, s := r.createStart(b)
			pidFile := filepath.Join(r.dir, "exec.pid")
			r.mustRun("exec", "--detach", "--pid-file", pidFile, c.ID, "sleep", "300")
			pid := strings.TrimSpace(readFileString(pidFile))
			want := strings.TrimSpace(readFileString(filepath.Join("/proc", strconv.Itoa(s.Pid), "cgroup")))
			got := strings.TrimSpace(readFileString(filepath.Join("/proc", pid, "cgroup")))
			if got != want {
				t.Errorf("exec'd process's cgroups (host view):\n%s\nwant the init's:\n%s", got, want)
			}
			if own := strings.TrimSpace(readFileString("/proc/self/cgroup")); got == own {
				t.Errorf("exec'd process shares the test's own cgroups: the container has none of its own")
			}
		})
	}
}

func withoutNS(list []specs.LinuxNamespace, t specs.LinuxNamespaceType) []specs.LinuxNamespace {
	var out []specs.LinuxNamespace
	for _, ns := range list {
		if ns.Type != t {
			out = append(out, ns)
		}
	}
	return out
}

// TestContractSharedCgroupRefused: a second container given the cgroup of
// a running one is refused (runc: `container's cgroup is not empty`), and
// the first keeps running in it alone.
func TestContractSharedCgroupRefused(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	cg := "/casco-test-" + newID(t)
	a := newBundle(t, sleeper...)
	a.Spec.Linux.CgroupsPath = cg
	_, first := r.createStart(a)
	b := newBundle(t, sleeper...)
	b.Spec.Linux.CgroupsPath = cg
	b.save(t)
	id := newID(t)
	r.trackCleanup(id)
	res := r.exec(runOpts{timeout: hangGuard}, "run", "-d", "--bundle", b.Dir, id)
	if res.Err != nil || res.Code == 0 || !strings.Contains(res.Stderr, "container's cgroup is not empty") {
		if oldRunc() && res.Code == 0 {
			t.Skipf("%s shares a non-empty cgroup (refused since runc 1.2): %s", runtimeVersion(), strings.TrimSpace(res.Stderr))
		}
		t.Errorf("a second container in a live container's cgroup: want runc's refusal: %s", res)
	}
	if _, st := r.state(id); st.Code == 0 {
		t.Errorf("the refused container %s has a state", id)
	}
	// create refuses it as run does
	id = newID(t)
	r.trackCleanup(id)
	res = r.exec(runOpts{timeout: hangGuard}, "create", "--bundle", b.Dir, id)
	if res.Err != nil || res.Code == 0 || !strings.Contains(res.Stderr, "container's cgroup is not empty") {
		t.Errorf("create in a live container's cgroup: want runc's refusal: %s", res)
	}
	if _, st := r.state(id); st.Code == 0 {
		t.Errorf("the refused container %s has a state", id)
	}
	if got := strings.TrimSpace(readFileString(filepath.Join("/proc", strconv.Itoa(first.Pid), "cgroup"))); got == "" {
		t.Errorf("first container's init gone after the refusal")
	}
	if st := r.mustState(first.ID); st.Status != "running" {
		t.Errorf("first container %s after the refusal, want running", st.Status)
	}
}
