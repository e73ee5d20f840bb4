package integration

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// crun's run.oci.* annotations, as podman sends them to crun. These tests
// pass with RUNTIME=crun as with casco, except where casco refuses what
// crun drops silently (casco-only subtests say so and skip for others).

func isCasco() bool { return strings.HasPrefix(runtimeVersion(), "casco") }

// crunAnnotation skips t for runc, which takes none of crun's annotations.
func crunAnnotation(t *testing.T, key string) {
	t.Helper()
	if isRunc() {
		t.Skipf("%s does not honour crun's %s annotation", runtimeVersion(), key)
	}
}

// annBundle is a bundle without a cgroup mount: crun refuses to mount
// cgroupfs on a cgroup v1 hybrid host ("cgroups in hybrid mode not
// supported"), and no annotation here is about it. With
// RUNTIME=a wrapper running `crun --cgroup-manager=disabled` these tests
// then run beside crun on such a host.
func annBundle(t *testing.T) *bundle {
	b := newBundle(t, sleeper...)
	var keep []specs.Mount
	for _, m := range b.Spec.Mounts {
		if m.Type != "cgroup" && m.Type != "cgroup2" {
			keep = append(keep, m)
		}
	}
	b.Spec.Mounts = keep
	return b
}

// createAs runs create with the runtime process in the given supplementary
// groups, and starts the container.
func (r *runtime) createStartAs(b *bundle, groups []uint32) (*container, state) {
	r.t.Helper()
	c := &container{r: r, ID: newID(r.t), B: b}
	b.save(r.t)
	r.trackCleanup(c.ID)
	c.Create = r.exec(runOpts{groups: groups}, "create", "--bundle", b.Dir, c.ID)
	if c.Create.Err != nil || c.Create.Code != 0 {
		r.t.Fatalf("create: %s", c.Create)
	}
	return c, c.start()
}

// TestAnnotationKeepOriginalGroups: with run.oci.keep_original_groups the
// process keeps the runtime's own supplementary groups (setgroups is not
// called, additionalGids are not set), in a user namespace of its own as
// without, for exec as for the init; with "0", or without it, it gets
// exactly additionalGids (an exec'd process none of the caller's). The
// kernel's view: /proc/PID/status Groups,
// read from the host (a gid mapped in the container shows as the host's).
func TestAnnotationKeepOriginalGroups(t *testing.T) {
	t.Parallel()
	crunAnnotation(t, "run.oci.keep_original_groups")
	caller := []uint32{4101, 4102}
	for _, tc := range []struct {
		name, value string // value "-" for no annotation
		userns      bool
		want        string
	}{
		{"kept", "1", false, "4101 4102"},
		{"off", "0", false, "4201"},
		{"absent", "-", false, "4201"},
		{"kept in a user namespace", "1", true, "4101 4102"},
		{"absent in a user namespace", "-", true, "104201"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newRuntime(t)
			b := annBundle(t)
			if tc.userns {
				b.addNamespace(specs.UserNamespace)
				b.Spec.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
				b.Spec.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
			}
			b.Spec.Process.User.AdditionalGids = []uint32{4201}
			if tc.value != "-" {
				b.Spec.Annotations = map[string]string{"run.oci.keep_original_groups": tc.value}
			}
			c, s := r.createStartAs(b, caller)
			if got := procStatus(t, s.Pid)["Groups"]; got != tc.want {
				t.Errorf("Groups of the container process = %q, want %q", got, tc.want)
			}
			pidFile := filepath.Join(t.TempDir(), "exec.pid")
			res := r.exec(runOpts{groups: caller}, "exec", "-d", "--pid-file", pidFile, c.ID, "sleep", "1000")
			if res.Err != nil || res.Code != 0 {
				t.Fatalf("exec: %s", res)
			}
			pid, err := strconv.Atoi(strings.TrimSpace(readFileString(pidFile)))
			if err != nil {
				t.Fatalf("exec pid file: %v", err)
			}
			// the annotation's part: the caller's groups, or none of them
			// (what an exec'd process gets otherwise is the runtime's:
			// runc and casco give it additionalGids, crun none)
			got := procStatus(t, pid)["Groups"]
			if kept := tc.want == "4101 4102"; kept && got != tc.want {
				t.Errorf("Groups of the exec'd process = %q, want %q", got, tc.want)
			} else if !kept && strings.Contains(" "+got+" ", " 4101 ") {
				t.Errorf("Groups of the exec'd process = %q: the caller's 4101 kept without the annotation", got)
			}
		})
	}
}

// TestAnnotationTimensOffset: run.oci.timens_offset is written to the new
// time namespace's timens_offsets, by clock name or number.
func TestAnnotationTimensOffset(t *testing.T) {
	t.Parallel()
	crunAnnotation(t, "run.oci.timens_offset")
	if _, err := os.Stat("/proc/self/ns/time"); err != nil {
		t.Skip("kernel has no time namespaces")
	}
	r := newRuntime(t)
	b := annBundle(t)
	b.addNamespace(specs.TimeNamespace)
	b.Spec.Annotations = map[string]string{"run.oci.timens_offset": "monotonic 7200 9\n7 3600 0"}
	_, s := r.createStart(b)
	offs := strings.Join(strings.Fields(readFileString(fmt.Sprintf("/proc/%d/timens_offsets", s.Pid))), " ")
	for _, want := range []string{"monotonic 7200 9", "boottime 3600 0"} {
		if !strings.Contains(offs, want) {
			t.Errorf("timens_offsets = %q, want %q", offs, want)
		}
	}

	t.Run("without a time namespace", func(t *testing.T) {
		if !isCasco() {
			t.Skipf("%s drops the offsets without a time namespace", runtimeVersion())
		}
		r := newRuntime(t)
		b := annBundle(t)
		b.Spec.Annotations = map[string]string{"run.oci.timens_offset": "monotonic 7200 0"}
		b.save(t)
		r.mustFail([]string{"run.oci.timens_offset"}, "create", "--bundle", b.Dir, newID(t))
		noLeftovers(t, r, b, "", "")
	})
}

// TestAnnotationHooksOutput: run.oci.hooks.stdout/stderr name files the
// hooks write to, appended to and created if missing: hooks the runtime
// runs (prestart, poststop) and hooks the container's init runs
// (createContainer) alike.
func TestAnnotationHooksOutput(t *testing.T) {
	t.Parallel()
	crunAnnotation(t, "run.oci.hooks.stdout")
	r := newRuntime(t)
	b := annBundle(t)
	dir := t.TempDir()
	outFile, errFile := filepath.Join(dir, "hooks.out"), filepath.Join(dir, "hooks.err")
	mustWrite(t, outFile, "before\n") // appended to, not truncated
	talk := func(name string) specs.Hook {
		return specs.Hook{Path: "/bin/sh", Args: []string{"sh", "-c", "echo " + name + "-out; echo " + name + "-err >&2"}}
	}
	b.Spec.Hooks = &specs.Hooks{
		Prestart:        []specs.Hook{talk("prestart")},
		CreateContainer: []specs.Hook{talk("createContainer")},
		Poststop:        []specs.Hook{talk("poststop")},
	}
	b.Spec.Annotations = map[string]string{"run.oci.hooks.stdout": outFile, "run.oci.hooks.stderr": errFile}
	c, _ := r.createStart(b)
	r.mustRun("delete", "--force", c.ID)

	out, errs := readFileString(outFile), readFileString(errFile)
	if want := "before\nprestart-out\ncreateContainer-out\npoststop-out\n"; out != want {
		t.Errorf("%s = %q, want %q", outFile, out, want)
	}
	if want := "prestart-err\ncreateContainer-err\npoststop-err\n"; errs != want {
		t.Errorf("%s = %q, want %q", errFile, errs, want)
	}
}

// TestAnnotationHooksOutputToStdout: /dev/stdout as the hooks' output
// file is the runtime's own stdout, for hooks the runtime runs and hooks
// the container's init runs.
func TestAnnotationHooksOutputToStdout(t *testing.T) {
	t.Parallel()
	crunAnnotation(t, "run.oci.hooks.stdout")
	r := newRuntime(t)
	b := annBundle(t)
	b.Spec.Hooks = &specs.Hooks{
		Prestart:        []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", "echo prestart-said"}}},
		CreateContainer: []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", "echo createContainer-said"}}},
	}
	b.Spec.Annotations = map[string]string{"run.oci.hooks.stdout": "/dev/stdout"}
	c, _ := r.createStart(b)
	out := readFileString(c.Create.StdoutPath)
	for _, want := range []string{"prestart-said", "createContainer-said"} {
		if !strings.Contains(out, want) {
			t.Errorf("create's stdout %q lacks %q", out, want)
		}
	}
}

// TestAnnotationHooksOutputRefused: the hooks' output file is opened as
// root on the host, and an image can set the annotation, so casco opens
// only a plain log file: a symlink, a FIFO (with or without a reader: the
// create must end, not wait), a directory, an executable file and a file
// of procfs are each refused with one line naming the annotation and the
// path, nothing is written through them, and nothing is left behind (not
// even the stdout file a refused stderr file came after).
func TestAnnotationHooksOutputRefused(t *testing.T) {
	t.Parallel()
	if !isCasco() {
		t.Skipf("%s opens the hooks' output file as given", runtimeVersion())
	}
	const before = "before\n"
	cases := map[string]func(t *testing.T, dir string) (path string, check func()){
		"symlink": func(t *testing.T, dir string) (string, func()) {
			target := filepath.Join(dir, "target")
			mustWrite(t, target, before)
			link := filepath.Join(dir, "link")
			if err := os.Symlink(target, link); err != nil {
				t.Fatal(err)
			}
			return link, func() { unchanged(t, target, before) }
		},
		"fifo without reader": func(t *testing.T, dir string) (string, func()) {
			fifo := filepath.Join(dir, "fifo")
			if err := unix.Mkfifo(fifo, 0o600); err != nil {
				t.Fatal(err)
			}
			return fifo, func() {}
		},
		"fifo with reader": func(t *testing.T, dir string) (string, func()) {
			fifo := filepath.Join(dir, "fifo")
			if err := unix.Mkfifo(fifo, 0o600); err != nil {
				t.Fatal(err)
			}
			reader, err := os.OpenFile(fifo, os.O_RDWR, 0) // does not wait
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { reader.Close() })
			return fifo, func() {
				var buf [64]byte
				fd := int(reader.Fd()) // Fd makes it blocking: once, then not
				if err := unix.SetNonblock(fd, true); err != nil {
					t.Fatal(err)
				}
				if n, _ := unix.Read(fd, buf[:]); n > 0 {
					t.Errorf("the FIFO received %q", buf[:n])
				}
			}
		},
		"directory": func(t *testing.T, dir string) (string, func()) {
			d := filepath.Join(dir, "dir")
			if err := os.Mkdir(d, 0o755); err != nil {
				t.Fatal(err)
			}
			return d, func() {
				if ents, _ := os.ReadDir(d); len(ents) != 0 {
					t.Errorf("%s gained %v", d, ents)
				}
			}
		},
		"executable": func(t *testing.T, dir string) (string, func()) {
			script := filepath.Join(dir, "script")
			mustWrite(t, script, before)
			if err := os.Chmod(script, 0o755); err != nil {
				t.Fatal(err)
			}
			return script, func() { unchanged(t, script, before) }
		},
		"procfs": func(t *testing.T, dir string) (string, func()) {
			// The hooks print nothing here: even a casco that opened the
			// file would change nothing on the host.
			return "/proc/sys/kernel/core_pattern", func() {}
		},
	}
	for name, setup := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := newRuntime(t)
			b := annBundle(t)
			dir := t.TempDir()
			bad, check := setup(t, dir)
			say := "echo said; echo said >&2"
			if name == "procfs" {
				say = "true"
			}
			hook := specs.Hook{Path: "/bin/sh", Args: []string{"sh", "-c", say}}
			b.Spec.Hooks = &specs.Hooks{Prestart: []specs.Hook{hook}, CreateContainer: []specs.Hook{hook}}
			// stdout is a new file, opened (and made) before stderr is refused
			fresh := filepath.Join(dir, "fresh.out")
			b.Spec.Annotations = map[string]string{"run.oci.hooks.stdout": fresh, "run.oci.hooks.stderr": bad}
			b.save(t)
			res := r.mustFail([]string{"run.oci.hooks.stderr"}, "create", "--bundle", b.Dir, newID(t))
			t.Logf("refused: %s", strings.TrimSpace(res.Stderr))
			if n := len(lines(strings.TrimSpace(res.Stderr))); n != 1 {
				t.Errorf("want one line of error, got %d: %s", n, res)
			}
			if !strings.Contains(res.Stderr, bad) {
				t.Errorf("the error does not name %s: %s", bad, res)
			}
			check()
			if _, err := os.Lstat(fresh); !os.IsNotExist(err) {
				t.Errorf("%s was left behind (%v)", fresh, err)
			}
			noLeftovers(t, r, b, "", "")
		})
	}
}

// unchanged fails t unless path holds content.
func unchanged(t *testing.T, path, content string) {
	t.Helper()
	if got := readFileString(path); got != content {
		t.Errorf("%s = %q, want it unchanged %q", path, got, content)
	}
}

// TestAnnotationSeccompFailUnknownSyscall: a syscall name libseccomp does
// not know is skipped, unless run.oci.seccomp_fail_unknown_syscall asks
// for an error; "0" turns it off.
func TestAnnotationSeccompFailUnknownSyscall(t *testing.T) {
	t.Parallel()
	crunAnnotation(t, "run.oci.seccomp_fail_unknown_syscall")
	const unknown = "no_such_syscall_at_all"
	bundleWith := func(t *testing.T, value string) *bundle {
		b := annBundle(t)
		b.Spec.Linux.Seccomp = &specs.LinuxSeccomp{
			DefaultAction: specs.ActAllow,
			Syscalls:      []specs.LinuxSyscall{{Names: []string{"getcpu", unknown}, Action: specs.ActErrno}},
		}
		if value != "-" {
			b.Spec.Annotations = map[string]string{"run.oci.seccomp_fail_unknown_syscall": value}
		}
		return b
	}
	t.Run("on", func(t *testing.T) {
		t.Parallel()
		r := newRuntime(t)
		b := bundleWith(t, "1")
		b.save(t)
		r.mustFail([]string{unknown}, "create", "--bundle", b.Dir, newID(t))
		noLeftovers(t, r, b, "", "")
	})
	for _, v := range []string{"0", "-"} {
		t.Run("off "+v, func(t *testing.T) {
			t.Parallel()
			r := newRuntime(t)
			_, s := r.createStart(bundleWith(t, v))
			if got := procStatus(t, s.Pid)["Seccomp"]; got != "2" {
				t.Errorf("Seccomp of the container process = %q, want 2 (filter)", got)
			}
		})
	}
}

// TestAnnotationSeccompBPFData: run.oci.seccomp_bpf_data is a BPF program
// loaded in place of linux.seccomp: here one that fails mkdir and mkdirat
// with EPERM. The kernel's view: one filter (Seccomp_filters), mkdir
// refused, linux.seccomp's own rule (getcpu) not in force.
func TestAnnotationSeccompBPFData(t *testing.T) {
	t.Parallel()
	crunAnnotation(t, "run.oci.seccomp_bpf_data")
	if goruntime.GOARCH != "amd64" {
		t.Skipf("the program is written for x86_64's syscall numbers, not %s", goruntime.GOARCH)
	}
	const (
		ldAbsW  = 0x20 // BPF_LD|BPF_W|BPF_ABS
		jeqK    = 0x15 // BPF_JMP|BPF_JEQ|BPF_K
		retK    = 0x06 // BPF_RET|BPF_K
		mkdir   = 83
		mkdirat = 258
	)
	insn := func(code uint16, jt, jf uint8, k uint32) []byte {
		b := make([]byte, 8)
		binary.LittleEndian.PutUint16(b, code)
		b[2], b[3] = jt, jf
		binary.LittleEndian.PutUint32(b[4:], k)
		return b
	}
	var prog []byte
	for _, i := range [][]byte{
		insn(ldAbsW, 0, 0, 0), // the syscall number
		insn(jeqK, 1, 0, mkdir),
		insn(jeqK, 0, 1, mkdirat),
		insn(retK, 0, 0, 0x00050000|1), // SECCOMP_RET_ERRNO | EPERM
		insn(retK, 0, 0, 0x7fff0000),   // SECCOMP_RET_ALLOW
	} {
		prog = append(prog, i...)
	}
	r := newRuntime(t)
	b := annBundle(t)
	b.Spec.Process.Args = []string{"sh", "-c", "mkdir /tmp/made 2>&1; grep ^Seccomp /proc/self/status"}
	b.Spec.Linux.Seccomp = &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Syscalls:      []specs.LinuxSyscall{{Names: []string{"getcpu"}, Action: specs.ActErrno}},
	}
	b.Spec.Annotations = map[string]string{"run.oci.seccomp_bpf_data": base64.StdEncoding.EncodeToString(prog)}
	_, res := r.runForeground(b)
	out := strings.Join(strings.Fields(res.Stdout), " ")
	for _, want := range []string{"Operation not permitted", "Seccomp: 2", "Seccomp_filters: 1"} {
		if !strings.Contains(out, want) {
			t.Errorf("want %q in the output: %s", want, res)
		}
	}
	if _, err := os.Stat(filepath.Join(b.Rootfs, "tmp/made")); err == nil {
		t.Errorf("mkdir was not refused: %s/tmp/made exists", b.Rootfs)
	}
}

// TestAnnotationSystemdSubgroupEmpty: run.oci.systemd.subgroup="" asks for
// the container in its cgroup itself, where the kernel puts it.
func TestAnnotationSystemdSubgroupEmpty(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	b := annBundle(t)
	cg := "/casco-test-subgroup-" + runTag + "-" + fmt.Sprint(idCounter.Add(1))
	b.Spec.Linux.CgroupsPath = cg
	b.Spec.Annotations = map[string]string{"run.oci.systemd.subgroup": ""}
	_, s := r.createStart(b)
	paths, err := procCgroups(s.Pid)
	if err != nil {
		t.Fatal(err)
	}
	for ctrl, p := range paths {
		if ctrl == "pids" || ctrl == "memory" || (ctrl == "" && isCgroup2()) {
			if p != cg {
				t.Errorf("cgroup %q of the container process = %q, want %q", ctrl, p, cg)
			}
		}
	}
}

// TestAnnotationPidfdReceiver: run.oci.pidfd_receiver gets one pidfd over
// the socket it names, and the kernel says it is the init's.
func TestAnnotationPidfdReceiver(t *testing.T) {
	t.Parallel()
	crunAnnotation(t, "run.oci.pidfd_receiver")
	r := newRuntime(t)
	sock, got := pidfdListener(t)
	b := annBundle(t)
	b.Spec.Annotations = map[string]string{"run.oci.pidfd_receiver": sock}
	c := r.create(b)
	want := r.mustState(c.ID).Pid
	// create sends it before it returns: a deadline, not a timing
	select {
	case pid := <-got:
		if pid != want {
			t.Errorf("the pidfd received is of pid %d, not the init's %d", pid, want)
		}
	case <-time.After(defaultTimeout):
		t.Errorf("no pidfd came over %s", sock)
	}
}

// TestAnnotationsRefused: each crun annotation casco does not honour, and
// each it honours given a value it cannot use, is refused by create with
// one line naming it, and nothing is left behind.
func TestAnnotationsRefused(t *testing.T) {
	t.Parallel()
	if !isCasco() {
		t.Skipf("%s honours or drops these itself", runtimeVersion())
	}
	for key, value := range map[string]string{
		"run.oci.delegate-cgroup":         "payload",
		"run.oci.systemd.subgroup":        "container",
		"run.oci.seccomp.receiver":        "/run/receiver.sock",
		"run.oci.seccomp.plugins":         "/usr/lib/plugin.so",
		"run.oci.seccomp_bpf_data":        "AAAA", // three bytes: not whole instructions
		"run.oci.pidfd_receiver":          "relative.sock",
		"run.oci.systemd.force_cgroup_v1": "/sys/fs/cgroup/systemd",
		"run.oci.handler":                 "krun",
		"run.oci.mount_context_type":      "nocontext",
		"run.oci.timens_offset":           "realtime 1 0",
		"run.oci.hooks.stdout":            "relative/file",
	} {
		t.Run(key, func(t *testing.T) {
			t.Parallel()
			r := newRuntime(t)
			b := annBundle(t)
			b.addNamespace(specs.TimeNamespace)
			b.Spec.Annotations = map[string]string{key: value}
			b.save(t)
			res := r.mustFail([]string{key}, "create", "--bundle", b.Dir, newID(t))
			if n := len(lines(strings.TrimSpace(res.Stderr))); n != 1 {
				t.Errorf("want one line of error, got %d: %s", n, res)
			}
			noLeftovers(t, r, b, "", "")
		})
	}
}

// TestFeaturesAnnotations: features lists the annotations casco acts on
// (crun's it honours, org.criu.config as runc does) in runtime-spec's
// potentiallyUnsafeConfigAnnotations.
func TestFeaturesAnnotations(t *testing.T) {
	t.Parallel()
	if !isCasco() {
		t.Skipf("%s lists its own", runtimeVersion())
	}
	r := newRuntime(t)
	var f struct {
		Unsafe []string `json:"potentiallyUnsafeConfigAnnotations"`
	}
	if err := json.Unmarshal([]byte(r.mustRun("features").Stdout), &f); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"org.criu.config", "run.oci.keep_original_groups", "run.oci.timens_offset", "run.oci.hooks.stdout", "run.oci.hooks.stderr", "run.oci.seccomp_fail_unknown_syscall", "run.oci.seccomp_bpf_data", "run.oci.pidfd_receiver", "run.oci.systemd.subgroup"} {
		if !strings.Contains(strings.Join(f.Unsafe, " "), want) {
			t.Errorf("features potentiallyUnsafeConfigAnnotations %q lacks %s", f.Unsafe, want)
		}
	}
}
