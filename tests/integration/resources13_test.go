package integration

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestCgroupResources13: the resources runtime-spec added since 1.0, read
// back from the kernel's cgroup files on v1, hybrid and v2: cpu.idle,
// cpu burst, hugetlb limits (with the reservation limit where the kernel
// has it) and unified keys (on the cgroup2 half of a hybrid host too).
func TestCgroupResources13(t *testing.T) {
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

// TestUpdateIntelRdt: update's Intel RDT flags write the container's
// resctrl group; where resctrl is absent they are refused, naming the flag.
func TestUpdateIntelRdt(t *testing.T) {
	t.Parallel()
	var st syscall.Statfs_t
	if syscall.Statfs("/sys/fs/resctrl", &st) == nil && st.Type == 0x7655821 {
		t.Skip("resctrl is mounted here: TestIntelRdt covers the group; schemata values depend on the hardware")
	}
	r := newRuntime(t)
	c, _ := r.createStart(newBundle(t, sleeper...))
	r.mustFail(cascoWords(t, "--l3-cache-schema"), "update", "--l3-cache-schema", "L3:0=f", c.ID)
	r.mustFail(cascoWords(t, "--mem-bw-schema"), "update", "--mem-bw-schema", "MB:0=50", c.ID)
}
