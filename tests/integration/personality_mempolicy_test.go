package integration

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestPersonalityAndMemoryPolicy: linux.personality and linux.memoryPolicy
// reach the init and an exec'd process: /proc/<pid>/personality (what
// personality(0xffffffff) returns), uname -m inside, and the policy in
// /proc/<pid>/numa_maps.
func TestPersonalityAndMemoryPolicy(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/proc/self/numa_maps"); err != nil {
		t.Skipf("no NUMA support in this kernel (/proc/self/numa_maps: %v)", err)
	}
	r := newRuntime(t)
	b := newBundle(t, "sh", "-c", "echo machine=$(uname -m); exec sleep 1000")
	b.Spec.Linux.Personality = &specs.LinuxPersonality{Domain: specs.PerLinux32}
	b.Spec.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: "0", Flags: []specs.MemoryPolicyFlagType{specs.MpolFStaticNodes}}
	c, s := r.createStart(b)
	out := c.waitOutput("machine=")
	waitExec(t, s.Pid, sleeper)
	pidFile := r.dir + "/exec.pid"
	r.mustRun("exec", "--detach", "--pid-file", pidFile, c.ID, "sleep", "300")
	execPid, err := strconv.Atoi(strings.TrimSpace(readFileString(pidFile)))
	if err != nil {
		t.Fatalf("pid file: %v", err)
	}
	waitExec(t, execPid, []string{"sleep", "300"})
	if !strings.Contains(out, "machine=i686") {
		t.Errorf("uname -m inside a LINUX32 container: %q, want i686", out)
	}
	for what, pid := range map[string]int{"init": s.Pid, "exec": execPid} {
		if got := strings.TrimSpace(readFileString(fmt.Sprintf("/proc/%d/personality", pid))); got != "00000008" {
			t.Errorf("%s: /proc/%d/personality = %q, want 00000008 (PER_LINUX32)", what, pid, got)
		}
		maps := readFileString(fmt.Sprintf("/proc/%d/numa_maps", pid))
		if !strings.Contains(maps, " bind=static:0 ") {
			t.Errorf("%s: numa_maps shows no bind=static:0 policy:\n%s", what, firstLines(maps, 5))
		}
	}
}

func firstLines(s string, n int) string {
	l := strings.SplitN(s, "\n", n+1)
	if len(l) > n {
		l = l[:n]
	}
	return strings.Join(l, "\n")
}

// TestPersonalityMemoryPolicyRefused: values the kernel would refuse are refused with the
// field named, and nothing is left behind.
func TestPersonalityMemoryPolicyRefused(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		set  func(l *specs.Linux)
		want string
	}{
		"personality-domain": {func(l *specs.Linux) { l.Personality = &specs.LinuxPersonality{Domain: "LINUX64"} }, "linux.personality"},
		"personality-flag": {func(l *specs.Linux) {
			l.Personality = &specs.LinuxPersonality{Domain: "LINUX", Flags: []specs.LinuxPersonalityFlag{"ADDR_NO_RANDOMIZE"}}
		}, "linux.personality"},
		"mempolicy-mode":  {func(l *specs.Linux) { l.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: "MPOL_FOO"} }, "linux.memoryPolicy"},
		"mempolicy-nodes": {func(l *specs.Linux) { l.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: specs.MpolBind} }, "linux.memoryPolicy"},
	} {
		t.Run(name, func(t *testing.T) {
			if name == "personality-flag" && isRunc() {
				t.Skipf("%s ignores personality flags with a warning; casco refuses them (the runtime-spec supports none)", runtimeVersion())
			}
			b := newBundle(t, "true")
			tc.set(b.Spec.Linux)
			mustRefuseNaming(t, b, tc.want)
		})
	}
}
