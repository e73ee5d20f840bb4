package integration

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/casco-runtime/casco/tests/internal/harness"
)

// testNetns starts a process in a network namespace of the test's own and
// returns the namespace's path; the process (and with it the namespace and
// its links) ends at cleanup. The host's links are never touched.
func testNetns(t *testing.T) string {
	t.Helper()
	holder := exec.Command("unshare", "--net", "sleep", "1000")
	if err := holder.Start(); err != nil {
		t.Skipf("cannot make a network namespace (unshare --net): %v", err)
	}
	t.Cleanup(func() {
		holder.Process.Kill()
		holder.Wait()
	})
	path := fmt.Sprintf("/proc/%d/ns/net", holder.Process.Pid)
	self, _ := os.Readlink("/proc/self/ns/net")
	if !harness.Poll(hangGuard, func() bool {
		l, err := os.Readlink(path)
		return err == nil && l != self && strings.Join(harness.Cmdline(holder.Process.Pid), " ") == "sleep 1000"
	}) {
		t.Fatalf("unshare --net never entered a network namespace of its own")
	}
	return path
}

// inTestNetns runs a command in the test's network namespace.
func inTestNetns(t *testing.T, netns string, args ...string) string {
	t.Helper()
	out, err := exec.Command("nsenter", append([]string{"--net=" + netns}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %v: %s", args, err, out)
	}
	return string(out)
}

// TestNetDevices: a dummy link made in the test's own network namespace,
// named in linux.netDevices, shows up inside the container renamed, up and
// with its permanent addresses, as `ip` inside the container reports; it
// is gone from the namespace it came from.
func TestNetDevices(t *testing.T) {
	t.Parallel()
	netns := testNetns(t)
	// a dummy link; where the kernel has no dummy driver, one end of a veth pair
	if out, err := exec.Command("nsenter", "--net="+netns, "ip", "link", "add", "cascod0", "type", "dummy").CombinedOutput(); err != nil {
		t.Logf("no dummy links here (%s): using a veth pair", strings.TrimSpace(string(out)))
		inTestNetns(t, netns, "ip", "link", "add", "cascod0", "type", "veth", "peer", "name", "cascod1")
	}
	inTestNetns(t, netns, "ip", "addr", "add", "10.99.0.1/24", "dev", "cascod0")
	inTestNetns(t, netns, "ip", "addr", "add", "fd00:99::1/64", "dev", "cascod0")

	r := newRuntime(t)
	b := newBundle(t, "sh", "-c", "ip -o link show ctr0; ip -o addr show dev ctr0")
	b.Spec.Linux.NetDevices = map[string]specs.LinuxNetDevice{"cascod0": {Name: "ctr0"}}
	b.save(t)
	id := newID(t)
	r.trackCleanup(id)
	// casco runs in the test's namespace: that is where the link comes from
	cmd := exec.Command("nsenter", "--net="+netns, runtimeBin, "--root", r.root, "run", "--bundle", b.Dir, id)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("run: %v\nstdout: %s\nstderr: %s", err, stdout.String(), stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{": ctr0", ",UP", "inet 10.99.0.1/24", "inet6 fd00:99::1/64"} {
		if !strings.Contains(out, want) {
			t.Errorf("ip inside the container lacks %q:\n%s", want, out)
		}
	}
	if left := inTestNetns(t, netns, "ip", "-o", "link", "show"); strings.Contains(left, "cascod0") {
		t.Errorf("cascod0 is still in the namespace it came from:\n%s", left)
	}
}

// TestNetDevicesRefused: a link that isn't there, or netDevices without a
// network namespace, is refused with the field named; nothing is left.
func TestNetDevicesRefused(t *testing.T) {
	t.Parallel()
	netns := testNetns(t)
	for name, set := range map[string]func(s *specs.Spec){
		"missing": func(s *specs.Spec) { s.Linux.NetDevices = map[string]specs.LinuxNetDevice{"nosuchlink0": {}} },
		"no-netns": func(s *specs.Spec) {
			s.Linux.NetDevices = map[string]specs.LinuxNetDevice{"lo": {}}
			var keep []specs.LinuxNamespace
			for _, ns := range s.Linux.Namespaces {
				if ns.Type != specs.NetworkNamespace {
					keep = append(keep, ns)
				}
			}
			s.Linux.Namespaces = keep
		},
	} {
		t.Run(name, func(t *testing.T) {
			r := newRuntime(t)
			b := newBundle(t, "true")
			set(b.Spec)
			b.save(t)
			id := newID(t)
			r.trackCleanup(id)
			cmd := exec.Command("nsenter", "--net="+netns, runtimeBin, "--root", r.root, "run", "--bundle", b.Dir, id)
			out, err := cmd.CombinedOutput()
			if err == nil || !holdsAll(string(out), cascoWords(t, "linux.netDevices")...) {
				t.Errorf("want a refusal naming linux.netDevices: err %v, output %s", err, out)
			}
			if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				t.Errorf("runtime killed by %v", ws.Signal())
			}
			noLeftovers(t, r, b, id, "")
		})
	}
}
