package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestRefusedInput: config values the runtime must refuse before it makes
// anything, with one line naming the field (NUL bytes, paths the
// spec wants absolute, cgroupsPath climbing out with "..", id maps the
// kernel would refuse with a bare EINVAL, device rules of an unknown type,
// oversized configs and lists). Nothing may be left behind.
func TestRefusedInput(t *testing.T) {
	t.Parallel()
	beyondRunc(t, "refusing malformed or oversized input up front, naming the field")
	cases := []struct {
		name     string
		setup    func(t *testing.T, b *bundle)
		keywords []string // all must appear (case-insensitive)
	}{
		{"nul-in-device-path", func(t *testing.T, b *bundle) {
			b.Spec.Linux.Devices = []specs.LinuxDevice{{Path: "/etc/nuldev\x00/../../dev/nuldev", Type: "c", Major: 1, Minor: 3}}
		}, []string{"linux.devices[0].path", "NUL"}},
		{"nul-in-args", func(t *testing.T, b *bundle) {
			b.Spec.Process.Args = []string{"sh", "-c", "true\x00; rm -rf /"}
		}, []string{"process.args[2]", "NUL"}},
		{"nul-in-env", func(t *testing.T, b *bundle) {
			b.Spec.Process.Env = append(b.Spec.Process.Env, "A=b\x00c")
		}, []string{"process.env", "NUL"}},
		{"nul-in-hostname", func(t *testing.T, b *bundle) { b.Spec.Hostname = "a\x00b" }, []string{"hostname", "NUL"}},
		{"nul-in-sysctl-key", func(t *testing.T, b *bundle) {
			b.Spec.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward\x00x": "1"}
		}, []string{"linux.sysctl", "NUL"}},
		{"nul-in-mount-option", func(t *testing.T, b *bundle) {
			b.Spec.Mounts = append(b.Spec.Mounts, specs.Mount{Destination: "/mnt", Type: "tmpfs", Source: "tmpfs", Options: []string{"size=1m\x00,exec"}})
		}, []string{"mounts[", "options", "NUL"}},
		{"nul-in-hook-path", func(t *testing.T, b *bundle) {
			b.Spec.Hooks = &specs.Hooks{Poststop: []specs.Hook{{Path: "/bin/true\x00x"}}}
		}, []string{"hooks.poststop[0].path", "NUL"}},
		{"hook-bare-name", func(t *testing.T, b *bundle) {
			b.Spec.Hooks = &specs.Hooks{Prestart: []specs.Hook{{Path: "true"}}}
		}, []string{"hooks.prestart[0].path", "absolute"}},
		{"hook-relative-path", func(t *testing.T, b *bundle) {
			b.Spec.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{Path: "./hook.sh"}}}
		}, []string{"hooks.createRuntime[0].path", "absolute"}},
		{"cgroupspath-dotdot", func(t *testing.T, b *bundle) {
			b.Spec.Linux.CgroupsPath = "/casco-test/../../escaped"
		}, []string{"cgroupsPath", ".."}},
		{"uidmap-overlap", func(t *testing.T, b *bundle) {
			b.addNamespace(specs.UserNamespace)
			b.Spec.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 100}, {ContainerID: 50, HostID: 200000, Size: 100}}
			b.Spec.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
		}, []string{"uidMappings[1]", "overlap"}},
		{"device-rule-unknown-type", func(t *testing.T, b *bundle) {
			b.Spec.Linux.Resources = &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: true, Type: "x", Major: i64(1), Minor: i64(3), Access: "rwm"}}}
		}, []string{"linux.resources.devices[0]", `"x"`}},
		{"too-many-mounts", func(t *testing.T, b *bundle) {
			for i := 0; i < 5000; i++ {
				b.Spec.Mounts = append(b.Spec.Mounts, specs.Mount{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs"})
			}
		}, []string{"mounts", "limit"}},
		{"config-too-large", func(t *testing.T, b *bundle) {
			b.Spec.Annotations = map[string]string{"big": strings.Repeat("x", 40<<20)}
		}, []string{"config.json", "limit"}},
	}
	pointer := regexp.MustCompile(`0x[0-9a-f]{8,}`)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newRuntime(t)
			b := newBundle(t, sleeper...)
			id := newID(t)
			cg := "casco-test-" + id
			b.Spec.Linux.CgroupsPath = cg
			tc.setup(t, b)
			b.save(t)
			r.trackCleanup(id)
			res := r.run("create", "--bundle", b.Dir, id)
			if res.Err != nil || res.Code <= 0 {
				t.Fatalf("want create refused: %s", res)
			}
			msg := strings.TrimSpace(res.Stderr)
			for _, k := range tc.keywords {
				if !mentions(msg, k) {
					t.Errorf("stderr should mention %q: %q", k, msg)
				}
			}
			if n := len(lines(msg)); n != 1 {
				t.Errorf("want one line of error, got %d: %q", n, msg)
			}
			if pointer.MatchString(msg) {
				t.Errorf("error prints a Go pointer: %q", msg)
			}
			if _, err := os.Lstat(filepath.Join(b.Rootfs, "etc", "nuldev")); err == nil {
				t.Errorf("a device node was made at rootfs/etc/nuldev, on the host's disk")
			}
			noLeftovers(t, r, b, id, cg)
		})
	}
}

// TestNegativePreserveFds: --preserve-fds must not be negative, for create
// and for exec.
func TestNegativePreserveFds(t *testing.T) {
	t.Parallel()
	beyondRunc(t, "refusing a negative --preserve-fds")
	r := newRuntime(t)
	b := newBundle(t, sleeper...)
	id := newID(t)
	b.save(t)
	r.trackCleanup(id)
	r.mustFail([]string{"preserve-fds"}, "create", "--preserve-fds", "-1", "--bundle", b.Dir, id)
	noLeftovers(t, r, b, id, "")
	c, _ := r.createStart(b)
	r.mustFail([]string{"preserve-fds"}, "exec", "--preserve-fds", "-2", c.ID, "true")
}

// TestInitFailureOneLine: a failure inside the container's init (here: the
// process's executable does not exist) reaches the user as one line, not
// the init's own copy and the runtime's.
func TestInitFailureOneLine(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	b := newBundle(t, "/no/such/binary")
	id := newID(t)
	b.save(t)
	r.trackCleanup(id)
	res := r.mustFail([]string{"/no/such/binary"}, "create", "--bundle", b.Dir, id)
	if n := len(lines(strings.TrimSpace(res.Stderr))); n != 1 {
		t.Errorf("want one line of error, got %d: %q", n, res.Stderr)
	}
	noLeftovers(t, r, b, id, "")
}

// TestDevicesListedAreNotAllowed: a device in linux.devices is created in
// the container but only linux.resources.devices and the default list
// decide whether it may be opened (runc: "Operation not permitted").
func TestDevicesListedAreNotAllowed(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	b := newBundle(t, "sh", "-c", `test -c /dev/kmsg && echo node-made; if (: > /dev/kmsg) 2>/dev/null; then echo open-allowed; else echo open-denied; fi`)
	b.Spec.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/kmsg", Type: "c", Major: 1, Minor: 11}}
	b.Spec.Linux.Resources = &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}}
	_, res := r.runForeground(b)
	if res.Err != nil {
		t.Fatalf("run: %s", res)
	}
	if !strings.Contains(res.Stdout, "node-made") {
		t.Errorf("/dev/kmsg was not created in the container: %s", res)
	}
	if !strings.Contains(res.Stdout, "open-denied") {
		t.Errorf("the device cgroup let the container open /dev/kmsg that no rule allows: %s", res)
	}
}

// TestPidFileIgnoresPlantedSymlinks: --pid-file in a directory another
// user can write. Symlinks planted at every temporary name a predictable
// scheme could use (the next few thousand pids) must not make root write
// through them; the pid file ends up holding the pid and nothing else in
// the directory is touched.
func TestPidFileIgnoresPlantedSymlinks(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	b := newBundle(t, sleeper...)
	dir := t.TempDir()
	os.Chmod(dir, 0o1777)
	victim := filepath.Join(t.TempDir(), "victim")
	mustWrite(t, victim, "precious\n")
	last, err := os.ReadFile("/proc/sys/kernel/ns_last_pid")
	if err != nil {
		t.Fatal(err)
	}
	next, _ := strconv.Atoi(strings.TrimSpace(string(last)))
	for pid := next; pid < next+3000; pid++ {
		for _, name := range []string{fmt.Sprintf("pid.tmp%d", pid), fmt.Sprintf(".pid.%d", pid)} {
			os.Symlink(victim, filepath.Join(dir, name))
		}
	}
	pidFile := filepath.Join(dir, "pid")
	c := r.create(b, "--pid-file", pidFile)
	s := r.mustState(c.ID)
	if got := strings.TrimSpace(readFileString(victim)); got != "precious" {
		t.Errorf("the pid file write went through a planted symlink: victim holds %q", got)
	}
	fi, err := os.Lstat(pidFile)
	if err != nil || !fi.Mode().IsRegular() {
		t.Fatalf("pid file %s is not a regular file: %v %v", pidFile, fi, err)
	}
	if got := strings.TrimSpace(readFileString(pidFile)); got != strconv.Itoa(s.Pid) {
		t.Errorf("pid file holds %q, want %d", got, s.Pid)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Name() != "pid" && e.Type()&os.ModeSymlink == 0 {
			t.Errorf("left behind in the pid file's directory: %s", e.Name())
		}
	}
}
