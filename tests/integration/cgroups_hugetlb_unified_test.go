package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestCgroupIdleBurstHugetlbUnified: cpu.idle, cpu burst, hugetlb limits
// (with the reservation limit where the kernel has it) and unified keys
// (on the cgroup2 half of a hybrid host too), read back from the kernel's
// cgroup files on v1, hybrid and v2.
func TestCgroupIdleBurstHugetlbUnified(t *testing.T) {
	t.Parallel()
	mounts := cgroupMounts(t)
	_, hasV1Hugetlb := mounts["hugetlb"]
	hugetlbOnV2 := false
	if u, ok := mounts[""]; ok {
		hugetlbOnV2 = strings.Contains(" "+readFileString(filepath.Join(u, "cgroup.controllers"))+" ", " hugetlb ") ||
			strings.Contains(readFileString(filepath.Join(u, "cgroup.subtree_control")), "hugetlb")
	}
	_, err := os.Stat("/sys/kernel/mm/hugepages/hugepages-2048kB")
	hugetlb := err == nil && (hasV1Hugetlb || hugetlbOnV2)
	_, hasUnified := mounts[""]

	r := newRuntime(t)
	b := newBundle(t, sleeper...)
	res := b.Spec.Linux.Resources
	period, burst, idle := uint64(100000), uint64(20000), int64(1)
	res.CPU = &specs.LinuxCPU{Quota: i64(50000), Period: &period, Burst: &burst, Idle: &idle}
	if isRunc() && !isCgroup2() && (hasUnified || hugetlb && !hasV1Hugetlb) {
		// casco writes both to the hybrid host's cgroup2 half
		hasUnified, hugetlb = false, hugetlb && hasV1Hugetlb
		t.Logf("%s leaves the cgroup2 half of a cgroup v1 host alone (refuses linux.resources.unified, cannot set hugetlb bound there): not checked", runtimeVersion())
	}
	if hugetlb {
		res.HugepageLimits = []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 4 << 20}}
	} else {
		t.Logf("no 2MB hugepages or no hugetlb controller here: hugepageLimits not checked")
	}
	if hasUnified {
		res.Unified = map[string]string{"cgroup.max.depth": "5"}
	} else {
		t.Logf("no cgroup2 hierarchy here: unified not checked")
	}
	_, s := r.createStart(b)

	want := map[[2]string]string{}
	if isCgroup2() {
		want[[2]string{"", "cpu.idle"}] = "1"
		want[[2]string{"", "cpu.max.burst"}] = "20000"
	} else {
		want[[2]string{"cpu", "cpu.idle"}] = "1"
		want[[2]string{"cpu", "cpu.cfs_burst_us"}] = "20000"
	}
	if hugetlb {
		ctrl, limit, rsvd := "hugetlb", "hugetlb.2MB.limit_in_bytes", "hugetlb.2MB.rsvd.limit_in_bytes"
		if !hasV1Hugetlb {
			ctrl, limit, rsvd = "", "hugetlb.2MB.max", "hugetlb.2MB.rsvd.max"
		}
		want[[2]string{ctrl, limit}] = "4194304"
		if _, err := os.Stat(cgroupFile(t, s.Pid, ctrl, rsvd)); err == nil {
			want[[2]string{ctrl, rsvd}] = "4194304"
		}
	}
	if hasUnified {
		want[[2]string{"", "cgroup.max.depth"}] = "5"
	}
	for k, v := range want {
		if got := strings.TrimSpace(readFileString(cgroupFile(t, s.Pid, k[0], k[1]))); got != v {
			t.Errorf("%s = %q, want %q", cgroupFile(t, s.Pid, k[0], k[1]), got, v)
		}
	}
}
