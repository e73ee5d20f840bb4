package seccomp

import (
	"encoding/json"
	"os"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// podmanProfile is the containers/common seccomp.json (Debian package
// golang-github-containers-common), the profile podman hands to its runtime.
const podmanProfile = "/usr/share/containers/seccomp.json"

// podman's default capabilities, which select the profile's cap-dependent rules.
var podmanCaps = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_NET_BIND_SERVICE",
	"CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID", "CAP_SYS_CHROOT",
}

type engineProfile struct {
	DefaultAction   specs.LinuxSeccompAction `json:"defaultAction"`
	DefaultErrnoRet *uint                    `json:"defaultErrnoRet"`
	ArchMap         []struct {
		Arch    specs.Arch   `json:"architecture"`
		SubArch []specs.Arch `json:"subArchitectures"`
	} `json:"archMap"`
	Syscalls []struct {
		specs.LinuxSyscall
		Includes engineFilter `json:"includes"`
		Excludes engineFilter `json:"excludes"`
	} `json:"syscalls"`
}

type engineFilter struct {
	Arches []string `json:"arches"`
	Caps   []string `json:"caps"`
}

// loadPodmanProfile turns the engine profile into the runtime-spec section
// podman would write for an x86_64 container with the default capabilities.
func loadPodmanProfile(t testing.TB) *specs.LinuxSeccomp {
	t.Helper()
	data, err := os.ReadFile(podmanProfile)
	if os.IsNotExist(err) {
		t.Skipf("%s not installed (apt-get install golang-github-containers-common)", podmanProfile)
	}
	if err != nil {
		t.Fatal(err)
	}
	var p engineProfile
	if err := json.Unmarshal(data, &p); err != nil {
		t.Fatal(err)
	}
	cfg := &specs.LinuxSeccomp{DefaultAction: p.DefaultAction, DefaultErrnoRet: p.DefaultErrnoRet}
	for _, m := range p.ArchMap {
		if m.Arch == specs.ArchX86_64 {
			cfg.Architectures = append([]specs.Arch{m.Arch}, m.SubArch...)
		}
	}
	arch := runtime.GOARCH
	for _, s := range p.Syscalls {
		if len(s.Includes.Arches) > 0 && !slices.Contains(s.Includes.Arches, arch) {
			continue
		}
		if slices.Contains(s.Excludes.Arches, arch) {
			continue
		}
		ok := true
		for _, c := range s.Includes.Caps {
			ok = ok && slices.Contains(podmanCaps, c)
		}
		for _, c := range s.Excludes.Caps {
			ok = ok && !slices.Contains(podmanCaps, c)
		}
		if ok {
			cfg.Syscalls = append(cfg.Syscalls, s.LinuxSyscall)
		}
	}
	return cfg
}

func TestPodmanProfile(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("profile conversion written for amd64")
	}
	cfg := loadPodmanProfile(t)
	start := time.Now()
	f := mustCompile(t, cfg)
	t.Logf("podman profile: %d rules, %d BPF instructions, compiled in %v", len(cfg.Syscalls), f.Len(), time.Since(start))

	dir := t.TempDir()
	script := `set -e
echo hello
mkdir ` + dir + `/d && cd ` + dir + `/d
echo data > f && cat f && ln -s f l && chmod 600 f && rm f l
ls / >/dev/null
sh -c 'exit 3' || echo child-exit=$?
( sleep 0 ) & wait
id -u
`
	so, se, st := runExec(t, f, "/bin/sh", "-c", script)
	if !st.Success() {
		t.Fatalf("sh under the podman profile: %v\nstdout: %s\nstderr: %s", st, so, se)
	}
	if want := "hello\ndata\nchild-exit=3\n0\n"; so != want {
		t.Errorf("stdout %q, want %q (stderr %s)", so, want, se)
	}

	// What the profile denies without the capabilities.
	res := runProbes(t, f,
		sys(unix.SYS_GETPID),
		sys(unix.SYS_PERSONALITY, personalityQuery),
		sys(unix.SYS_PERSONALITY, 0x0040000),      // ADDR_NO_RANDOMIZE: not in the list
		sys(unix.SYS_ACCT, 0),                     // CAP_SYS_PACCT rule: EPERM
		sys(unix.SYS_BPF, 0xffff, 0, 0),           // CAP_SYS_ADMIN rule: EPERM
		sys(unix.SYS_USERFAULTFD, 0xffffffff),     // explicit EPERM list
		sys(unix.SYS_ADD_KEY, 0, 0, 0, 0, 0),      // not in the profile: the default ENOSYS
		sys(unix.SYS_FCHMODAT2, atFdcwd, 0, 0, 0), // not listed: ENOSYS
	)
	if res[0].Errno != 0 || res[1].Errno != 0 {
		t.Errorf("getpid %v, personality query %v: want allowed", res[0].Errno, res[1].Errno)
	}
	if res[2].Errno != unix.ENOSYS {
		t.Errorf("personality(ADDR_NO_RANDOMIZE): %v, want the default ENOSYS", res[2].Errno)
	}
	if res[3].Errno != unix.EPERM {
		t.Errorf("acct: %v, want EPERM", res[3].Errno)
	}
	if res[4].Errno != unix.EPERM {
		t.Errorf("bpf: %v, want EPERM", res[4].Errno)
	}
	if res[5].Errno != unix.EPERM {
		t.Errorf("userfaultfd: %v, want EPERM", res[5].Errno)
	}
	if res[6].Errno != unix.ENOSYS {
		t.Errorf("add_key: %v, want ENOSYS", res[6].Errno)
	}
	if res[7].Errno != unix.ENOSYS {
		t.Errorf("fchmodat2: %v, want ENOSYS", res[7].Errno)
	}
}

// The same profile as Docker writes it (EPERM by default, as older podman
// profiles did): big, multi-arch, and it needs the ENOSYS stub.
func TestPodmanProfileEPERMDefault(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("profile conversion written for amd64")
	}
	cfg := loadPodmanProfile(t)
	cfg.DefaultErrnoRet = nil
	f := mustCompile(t, cfg)
	so, se, st := runExec(t, f, "/bin/sh", "-c", "echo ok; ls /proc/self/fd >/dev/null")
	if !st.Success() || so != "ok\n" {
		t.Fatalf("sh: %v %q %s", st, so, se)
	}
	res := runProbes(t, f,
		sys(unix.SYS_PERSONALITY, 0x0040000),
		sys(unix.SYS_FCHMODAT2, atFdcwd, 0, 0, 0),
		sys(unix.SYS_GETPID),
	)
	if res[0].Errno != unix.EPERM {
		t.Errorf("personality(ADDR_NO_RANDOMIZE): %v, want EPERM", res[0].Errno)
	}
	if res[1].Errno != unix.ENOSYS {
		t.Errorf("fchmodat2 (newer than the profile): %v, want ENOSYS", res[1].Errno)
	}
	if res[2].Errno != 0 {
		t.Errorf("getpid: %v", res[2].Errno)
	}
}
