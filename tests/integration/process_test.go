package integration

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestHostname: the uts namespace gets the config's hostname.
func TestHostname(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	b := newBundle(t, "hostname")
	b.Spec.Hostname = "casco-box"
	if _, res := r.runForeground(b); res.Code != 0 || res.Stdout != "casco-box\n" {
		t.Errorf("hostname inside: %s, want casco-box", res)
	}
	if h, _ := os.Hostname(); h == "casco-box" {
		t.Errorf("the host's hostname changed to casco-box")
	}
}

// TestCwd: the process starts in process.cwd.
func TestCwd(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	b := newBundle(t, "pwd")
	b.Spec.Process.Cwd = "/home/user"
	if _, res := r.runForeground(b); res.Code != 0 || res.Stdout != "/home/user\n" {
		t.Errorf("pwd inside: %s, want /home/user", res)
	}
}

// TestEnv: the process's environment (what execve got, /proc/<pid>/environ)
// is exactly process.env when it sets HOME.
func TestEnv(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	b := newBundle(t, sleeper...)
	want := []string{"PATH=/bin", "HOME=/home/user", "CASCO_A=1", "CASCO_B=with spaces=and equals", "EMPTY="}
	b.Spec.Process.Env = want
	_, s := r.createStart(b)
	got := strings.Split(strings.TrimRight(readFileString(fmt.Sprintf("/proc/%d/environ", s.Pid)), "\x00"), "\x00")
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("environ = %q, want %q", got, want)
	}
}

// TestUser: uid, gid and additionalGids as the kernel has them.
func TestUser(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	b := newBundle(t, sleeper...)
	b.Spec.Process.User = specs.User{UID: 1000, GID: 1001, AdditionalGids: []uint32{10, 20, 30}}
	_, s := r.createStart(b)
	st := procStatus(t, s.Pid)
	if got := strings.Join(strings.Fields(st["Uid"]), " "); got != "1000 1000 1000 1000" {
		t.Errorf("Uid = %q, want 1000 (real, effective, saved, fs)", got)
	}
	if got := strings.Join(strings.Fields(st["Gid"]), " "); got != "1001 1001 1001 1001" {
		t.Errorf("Gid = %q, want 1001", got)
	}
	if got := strings.Join(strings.Fields(st["Groups"]), " "); got != "10 20 30" {
		t.Errorf("Groups = %q, want 10 20 30", got)
	}
}

// capBits maps capability names to their bit numbers (linux/capability.h).
var capBits = map[string]uint{
	"CAP_CHOWN": 0, "CAP_DAC_OVERRIDE": 1, "CAP_DAC_READ_SEARCH": 2, "CAP_FOWNER": 3,
	"CAP_FSETID": 4, "CAP_KILL": 5, "CAP_SETGID": 6, "CAP_SETUID": 7, "CAP_SETPCAP": 8,
	"CAP_LINUX_IMMUTABLE": 9, "CAP_NET_BIND_SERVICE": 10, "CAP_NET_BROADCAST": 11,
	"CAP_NET_ADMIN": 12, "CAP_NET_RAW": 13, "CAP_IPC_LOCK": 14, "CAP_IPC_OWNER": 15,
	"CAP_SYS_MODULE": 16, "CAP_SYS_RAWIO": 17, "CAP_SYS_CHROOT": 18, "CAP_SYS_PTRACE": 19,
	"CAP_SYS_PACCT": 20, "CAP_SYS_ADMIN": 21, "CAP_SYS_BOOT": 22, "CAP_SYS_NICE": 23,
	"CAP_SYS_RESOURCE": 24, "CAP_SYS_TIME": 25, "CAP_SYS_TTY_CONFIG": 26, "CAP_MKNOD": 27,
	"CAP_LEASE": 28, "CAP_AUDIT_WRITE": 29, "CAP_AUDIT_CONTROL": 30, "CAP_SETFCAP": 31,
	"CAP_MAC_OVERRIDE": 32, "CAP_MAC_ADMIN": 33, "CAP_SYSLOG": 34, "CAP_WAKE_ALARM": 35,
	"CAP_BLOCK_SUSPEND": 36, "CAP_AUDIT_READ": 37, "CAP_PERFMON": 38, "CAP_BPF": 39,
	"CAP_CHECKPOINT_RESTORE": 40,
}

func capMask(t *testing.T, names []string) uint64 {
	var m uint64
	for _, n := range names {
		bit, ok := capBits[n]
		if !ok {
			t.Fatalf("unknown capability %q in the test", n)
		}
		m |= 1 << bit
	}
	return m
}

func statusCaps(t *testing.T, pid int) map[string]uint64 {
	t.Helper()
	st := procStatus(t, pid)
	out := map[string]uint64{}
	for _, k := range []string{"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"} {
		v, err := strconv.ParseUint(st[k], 16, 64)
		if err != nil {
			t.Fatalf("%s = %q: %v", k, st[k], err)
		}
		out[k] = v
	}
	return out
}

// TestCapabilities: the five capability sets of the user's process, as the
// kernel computes them at execve from the sets the runtime installed
// (capabilities(7)): for uid 0 permitted = inheritable|bounding and
// effective = permitted; for another uid (no file caps) permitted =
// effective = ambient. Inheritable, bounding and ambient carry over as set.
func TestCapabilities(t *testing.T) {
	t.Parallel()
	bounding := []string{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_AUDIT_WRITE", "CAP_SETUID", "CAP_SETGID"}
	cases := []struct {
		name string
		uid  uint32
		caps specs.LinuxCapabilities
		// Expected after execve.
		inh, prm, eff, bnd, amb []string
	}{
		{
			name: "root",
			uid:  0,
			caps: specs.LinuxCapabilities{
				Bounding:    bounding,
				Effective:   bounding,
				Permitted:   bounding,
				Inheritable: []string{"CAP_KILL", "CAP_NET_BIND_SERVICE"},
				Ambient:     []string{"CAP_KILL", "CAP_NET_BIND_SERVICE"},
			},
			inh: []string{"CAP_KILL", "CAP_NET_BIND_SERVICE"},
			prm: bounding, eff: bounding, bnd: bounding,
			amb: []string{"CAP_KILL", "CAP_NET_BIND_SERVICE"},
		},
		{
			name: "root-defaults", // runc's spec: bounding = effective = permitted, no inheritable
			uid:  0,
			caps: specs.LinuxCapabilities{
				Bounding:  []string{"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"},
				Effective: []string{"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"},
				Permitted: []string{"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"},
			},
			prm: []string{"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"},
			eff: []string{"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"},
			bnd: []string{"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"},
		},
		{
			name: "user-ambient",
			uid:  1000,
			caps: specs.LinuxCapabilities{
				Bounding:    bounding,
				Effective:   []string{"CAP_KILL", "CAP_NET_BIND_SERVICE"},
				Permitted:   []string{"CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_CHOWN"},
				Inheritable: []string{"CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_CHOWN"},
				Ambient:     []string{"CAP_KILL", "CAP_NET_BIND_SERVICE"},
			},
			inh: []string{"CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_CHOWN"},
			prm: []string{"CAP_KILL", "CAP_NET_BIND_SERVICE"},
			eff: []string{"CAP_KILL", "CAP_NET_BIND_SERVICE"},
			bnd: bounding,
			amb: []string{"CAP_KILL", "CAP_NET_BIND_SERVICE"},
		},
		{
			name: "user-none",
			uid:  1000,
			caps: specs.LinuxCapabilities{Bounding: []string{"CAP_KILL"}, Effective: []string{"CAP_KILL"}, Permitted: []string{"CAP_KILL"}},
			bnd:  []string{"CAP_KILL"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newRuntime(t)
			b := newBundle(t, sleeper...)
			b.Spec.Process.User = specs.User{UID: tc.uid, GID: tc.uid}
			caps := tc.caps
			b.Spec.Process.Capabilities = &caps
			_, s := r.createStart(b)
			got := statusCaps(t, s.Pid)
			want := map[string]uint64{
				"CapInh": capMask(t, tc.inh), "CapPrm": capMask(t, tc.prm), "CapEff": capMask(t, tc.eff),
				"CapBnd": capMask(t, tc.bnd), "CapAmb": capMask(t, tc.amb),
			}
			for _, k := range []string{"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"} {
				if got[k] != want[k] {
					t.Errorf("%s = %016x, want %016x", k, got[k], want[k])
				}
			}
		})
	}
}

// TestNoNewPrivileges: process.noNewPrivileges sets the no_new_privs bit.
func TestNoNewPrivileges(t *testing.T) {
	t.Parallel()
	for _, nnp := range []bool{true, false} {
		t.Run(strconv.FormatBool(nnp), func(t *testing.T) {
			t.Parallel()
			r := newRuntime(t)
			b := newBundle(t, sleeper...)
			b.Spec.Process.NoNewPrivileges = nnp
			_, s := r.createStart(b)
			want := map[bool]string{true: "1", false: "0"}[nnp]
			if got := procStatus(t, s.Pid)["NoNewPrivs"]; got != want {
				t.Errorf("NoNewPrivs = %q, want %s", got, want)
			}
		})
	}
}

// procLimits parses /proc/<pid>/limits into name -> [soft, hard].
func procLimits(t *testing.T, pid int) map[string][2]string {
	t.Helper()
	out := map[string][2]string{}
	for _, l := range lines(readFileString(fmt.Sprintf("/proc/%d/limits", pid)))[1:] {
		// "Max open files            1024                 4096                 files"
		if len(l) < 26 {
			continue
		}
		f := strings.Fields(l[26:])
		if len(f) >= 2 {
			out[strings.TrimSpace(l[:26])] = [2]string{f[0], f[1]}
		}
	}
	return out
}

// TestRlimits: process.rlimits as the kernel reports them. The hard limits
// stay below this machine's (nofile hard is 20000 and there is no
// CAP_SYS_RESOURCE to raise it).
func TestRlimits(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	b := newBundle(t, sleeper...)
	b.Spec.Process.Rlimits = []specs.POSIXRlimit{
		{Type: "RLIMIT_NOFILE", Soft: 1111, Hard: 2222},
		{Type: "RLIMIT_CORE", Soft: 1024, Hard: 4096},
		{Type: "RLIMIT_MSGQUEUE", Soft: 8192, Hard: 16384},
	}
	_, s := r.createStart(b)
	got := procLimits(t, s.Pid)
	for name, want := range map[string][2]string{
		"Max open files":     {"1111", "2222"},
		"Max core file size": {"1024", "4096"},
		"Max msgqueue size":  {"8192", "16384"},
	} {
		if got[name] != want {
			t.Errorf("%s = %q, want %q", name, got[name], want)
		}
	}
}

// TestOOMScoreAdj: process.oomScoreAdj lands in /proc/<pid>/oom_score_adj.
// Only raising it needs no privilege, so the value is above the host's.
func TestOOMScoreAdj(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	b := newBundle(t, sleeper...)
	adj := 321
	b.Spec.Process.OOMScoreAdj = &adj
	_, s := r.createStart(b)
	if got := strings.TrimSpace(readFileString(fmt.Sprintf("/proc/%d/oom_score_adj", s.Pid))); got != "321" {
		t.Errorf("oom_score_adj = %q, want 321", got)
	}
	if got := strings.TrimSpace(readFileString("/proc/self/oom_score_adj")); got == "321" {
		t.Errorf("the test process's own oom_score_adj changed")
	}
}

// TestUmask: process.user.umask, and 0022 when unset.
func TestUmask(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		umask *uint32
		want  string
	}{{"set", u32(0o027), "0027"}, {"default", nil, "0022"}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newRuntime(t)
			b := newBundle(t, sleeper...)
			b.Spec.Process.User.Umask = tc.umask
			_, s := r.createStart(b)
			if got := procStatus(t, s.Pid)["Umask"]; got != tc.want {
				t.Errorf("Umask = %q, want %s", got, tc.want)
			}
		})
	}
}

// TestArgs: args reach execve unchanged, and the process's stdio is the
// runtime's when there is no terminal.
func TestArgs(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	b := newBundle(t, "sh", "-c", `for a in "$@"; do echo "[$a]"; done`, "sh", "a b", "", "c'd", "$HOME")
	if _, res := r.runForeground(b); res.Code != 0 || res.Stdout != "[a b]\n[]\n[c'd]\n[$HOME]\n" {
		t.Errorf("args: %s", res)
	}
}
