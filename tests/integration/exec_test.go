package integration

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// TestExec: an exec'd process joins every namespace of the container's init
// and its cgroup, and `exec` returns the process's exit code.
func TestExec(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	b := newBundle(t, sleeper...)
	b.addNamespace("cgroup")
	c, s := r.createStart(b)

	// the exec'd process reports its host pid through a pid file and waits
	pidFile := r.dir + "/exec.pid"
	r.mustRun("exec", "--detach", "--pid-file", pidFile, c.ID, "sleep", "300")
	pid, err := strconv.Atoi(strings.TrimSpace(readFileString(pidFile)))
	if err != nil {
		t.Fatalf("pid file: %v", err)
	}
	for _, ns := range []string{"pid", "net", "mnt", "ipc", "uts", "cgroup"} {
		if want, got := nsLink(t, s.Pid, ns), nsLink(t, pid, ns); want != got {
			t.Errorf("exec'd process is in %s %s, the init in %s", ns, got, want)
		}
	}
	if want, got := readFileString(fmt.Sprintf("/proc/%d/cgroup", s.Pid)), readFileString(fmt.Sprintf("/proc/%d/cgroup", pid)); want != got {
		t.Errorf("exec'd process cgroups:\n%s\nthe init's:\n%s", got, want)
	}

	res := r.run("exec", c.ID, "sh", "-c", "exit 42")
	if res.Code != 42 {
		t.Errorf("exec of `exit 42`: %s", res)
	}
	res = r.mustRun("exec", "--env", "FOO=bar", "--cwd", "/tmp", c.ID, "sh", "-c", "echo $FOO $(pwd)")
	if got := strings.TrimSpace(res.Stdout); got != "bar /tmp" {
		t.Errorf("exec --env --cwd printed %q, want %q", got, "bar /tmp")
	}
	r.mustFail([]string{"not found", "nosuchcmd"}, "exec", c.ID, "nosuchcmd")
}

// TestExecIdentity: --user and --cap set what the kernel reports, and --cap
// never grants inheritable or ambient capabilities (CVE-2022-29162).
func TestExecIdentity(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	b := newBundle(t, sleeper...)
	c, _ := r.createStart(b)
	pidFile := r.dir + "/exec.pid"
	r.mustRun("exec", "--detach", "--pid-file", pidFile, "--user", "1000:1001", "--additional-gids", "7",
		"--cap", "CAP_SYS_ADMIN", c.ID, "sleep", "300")
	pid, _ := strconv.Atoi(strings.TrimSpace(readFileString(pidFile)))
	st := procStatus(t, pid)
	if f := strings.Fields(st["Uid"]); len(f) < 1 || f[0] != "1000" {
		t.Errorf("Uid = %q, want 1000", st["Uid"])
	}
	if f := strings.Fields(st["Gid"]); len(f) < 1 || f[0] != "1001" {
		t.Errorf("Gid = %q, want 1001", st["Gid"])
	}
	if g := strings.TrimSpace(st["Groups"]); g != "7" && !(g == "7 7" && knownRuncBug(t, "runc 1.5 gives exec --additional-gids 7 the group twice")) {
		t.Errorf("Groups = %q, want 7", g)
	}
	bnd, _ := strconv.ParseUint(st["CapBnd"], 16, 64)
	if bnd&(1<<21) == 0 {
		t.Errorf("CapBnd %s lacks CAP_SYS_ADMIN added by --cap", st["CapBnd"])
	}
	for _, set := range []string{"CapInh", "CapAmb"} {
		if v, _ := strconv.ParseUint(st[set], 16, 64); v != 0 {
			t.Errorf("%s = %s: --cap must not grant inheritable or ambient capabilities", set, st[set])
		}
	}
}

// TestExecStopped: exec into a stopped or paused container fails clearly.
func TestExecStopped(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	b := newBundle(t, "true")
	c := r.create(b)
	r.mustRun("start", c.ID) // `true` is gone at once: no wait for its exec
	r.waitStatus(c.ID, "stopped")
	r.mustFail([]string{"stopped"}, "exec", c.ID, "true")
	r.mustFail([]string{"not exist"}, "exec", "no-such-container", "true")
}
