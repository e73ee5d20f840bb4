package integration

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestPidsLimitEnforced: a fork bomb stops at pids.max; the kernel counts
// the refused forks in pids.events.
func TestPidsLimitEnforced(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	// busybox sh gives up at the first refused fork: bomb from a subshell
	b := newBundle(t, "sh", "-c", `(i=0; while [ $i -lt 40 ]; do sleep 30 & i=$((i+1)); done) 2>/dev/null; echo forked; sleep 30`)
	limit := int64(10)
	b.Spec.Linux.Resources.Pids = &specs.LinuxPids{Limit: &limit}
	c, s := r.createStart(b)
	c.waitOutput("forked")
	ctrl := "pids"
	if _, v1 := cgroupMounts(t)["pids"]; !v1 {
		ctrl = ""
	}
	current, _ := strconv.Atoi(strings.TrimSpace(readFileString(cgroupFile(t, s.Pid, ctrl, "pids.current"))))
	if current < 2 || current > int(limit) {
		t.Errorf("pids.current = %d under pids.max %d: want the limit reached, never passed", current, limit)
	}
	events := readFileString(cgroupFile(t, s.Pid, ctrl, "pids.events"))
	refused := 0
	fmt.Sscanf(strings.TrimSpace(strings.TrimPrefix(events, "max")), "%d", &refused)
	if refused == 0 {
		t.Errorf("pids.events %q: the kernel refused no fork, so the limit was not what stopped the bomb", events)
	}
}

// TestDeviceDenied: the device cgroup lets a container make any node but
// open only the allowed ones: /dev/kmsg's numbers (1:11) are refused while
// /dev/null (1:3) works.
func TestDeviceDenied(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	b := newBundle(t, "sh", "-c", `mknod /dev/k c 1 11 || exit 9; head -c1 /dev/k >/dev/null 2>/tmp/err; echo "k=$? $(cat /tmp/err)"; echo x > /dev/null; echo "null=$?"`)
	b.Spec.Root.Readonly = false
	b.Spec.Process.Capabilities.Bounding = append(b.Spec.Process.Capabilities.Bounding, "CAP_MKNOD")
	b.Spec.Process.Capabilities.Effective = append(b.Spec.Process.Capabilities.Effective, "CAP_MKNOD")
	b.Spec.Process.Capabilities.Permitted = append(b.Spec.Process.Capabilities.Permitted, "CAP_MKNOD")
	deadline := time.Now().Add(time.Minute)
	_, res := r.runForeground(b)
	if time.Now().After(deadline) || res.Code != 0 {
		t.Fatalf("run: %s", res)
	}
	if !strings.Contains(res.Stdout, "k=1 ") || !strings.Contains(strings.ToLower(res.Stdout), "operation not permitted") {
		t.Errorf("opening a 1:11 node the device cgroup does not allow: %q, want it refused with EPERM", res.Stdout)
	}
	if !strings.Contains(res.Stdout, "null=0") {
		t.Errorf("/dev/null must stay usable: %q", res.Stdout)
	}
}
