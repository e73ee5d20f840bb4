package libcontainer

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/casco-runtime/casco/libcontainer/plan"
	"github.com/casco-runtime/casco/seccomp"
)

// decode reads a plan back the way casco-init parses it, failing the test
// on any framing error.
func decode(t *testing.T, b []byte) []plan.Op {
	t.Helper()
	ops, err := plan.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	return ops
}

func testSpec() *specs.Spec {
	s := DefaultSpec()
	s.Process.Terminal = false
	return s
}

func testInput(s *specs.Spec) *planInput {
	st := func(string) *specs.State { return &specs.State{ID: "t"} }
	ns, _ := planNamespaces(s) // as create decides them; the tests give no config it refuses
	return &planInput{
		bundle:      &Bundle{Path: "/b", Rootfs: "/b/rootfs", Spec: s},
		ns:          ns,
		cgroupPaths: map[string]string{"memory": "/sys/fs/cgroup/memory/casco/t"},
		fds:         initFds{fifo: 5, console: -1},
		state:       st,
		innerState:  st,
	}
}

func indexOf(ops []plan.Op, code uint32) int {
	for i, op := range ops {
		if op.Code == code {
			return i
		}
	}
	return -1
}

func TestPlanOrder(t *testing.T) {
	p, err := buildPlan(testInput(testSpec()))
	if err != nil {
		t.Fatal(err)
	}
	ops := decode(t, p.Bytes())
	// the steps that must come in this order for the container to be safe and correct
	order := []uint32{plan.OpRootfs, plan.OpMount, plan.OpPivotRoot, plan.OpMask, plan.OpReadonly, plan.OpRemountRO, plan.OpCloseFds, plan.OpIdentity, plan.OpNoNewPrivs, plan.OpLookPath, plan.OpReady, plan.OpWaitFifo, plan.OpExec}
	last := -1
	for _, code := range order {
		i := indexOf(ops, code)
		if i < 0 {
			t.Fatalf("op %d missing from the plan", code)
		}
		if i < last {
			t.Errorf("op %d at %d comes before the op expected before it (at %d)", code, i, last)
		}
		last = i
	}
	if ops[len(ops)-1].Code != plan.OpExec {
		t.Errorf("the plan must end with exec")
	}
	exec := ops[len(ops)-1]
	if exec.Ints[0] != 1 || exec.Strs[0] != "sh" {
		t.Errorf("exec op = %+v", exec)
	}
}

// TestPlanSeccompPlacement: without no_new_privs the filter needs
// CAP_SYS_ADMIN, so it is loaded before the identity change; with it, as
// late as possible, after the wait for start.
func TestPlanSeccompPlacement(t *testing.T) {
	for _, nnp := range []bool{false, true} {
		s := testSpec()
		s.Process.NoNewPrivileges = nnp
		in := testInput(s)
		in.filter = &seccomp.Filter{Program: make([]byte, 8)}
		p, err := buildPlan(in)
		if err != nil {
			t.Fatal(err)
		}
		ops := decode(t, p.Bytes())
		sc, id, fifo := indexOf(ops, plan.OpSeccomp), indexOf(ops, plan.OpIdentity), indexOf(ops, plan.OpWaitFifo)
		caps := indexOf(ops, plan.OpCaps)
		if !nnp && (sc < id || sc > caps) {
			t.Errorf("noNewPrivileges=false: seccomp at %d must sit between identity (%d) and the final capabilities (%d)", sc, id, caps)
		}
		if nnp && sc < fifo {
			t.Errorf("noNewPrivileges=true: seccomp at %d before the fifo wait at %d", sc, fifo)
		}
	}
}

func TestPlanHooksCheckpoint(t *testing.T) {
	s := testSpec()
	if ops := decode(t, mustPlan(t, s).Bytes()); indexOf(ops, plan.OpSyncHooks) >= 0 {
		t.Errorf("no hooks: the plan must not pause for the parent")
	}
	s.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{Path: "/bin/true"}}, CreateContainer: []specs.Hook{{Path: "/bin/true"}}}
	ops := decode(t, mustPlan(t, s).Bytes())
	sync, hook, pivot := indexOf(ops, plan.OpSyncHooks), indexOf(ops, plan.OpHook), indexOf(ops, plan.OpPivotRoot)
	if sync < 0 || hook < sync || pivot < hook {
		t.Errorf("want sync (%d) < createContainer hook (%d) < pivot_root (%d)", sync, hook, pivot)
	}
}

func mustPlan(t *testing.T, s *specs.Spec) *planBuilder {
	t.Helper()
	p, err := buildPlan(testInput(s))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPlanIdentity(t *testing.T) {
	s := testSpec()
	s.Process.User = specs.User{UID: 1000, GID: 100, AdditionalGids: []uint32{5, 6}}
	s.Process.Capabilities = &specs.LinuxCapabilities{
		Bounding: []string{"CAP_KILL", "CAP_CHOWN"}, Effective: []string{"CAP_KILL"}, Permitted: []string{"CAP_KILL"},
		Ambient: []string{"CAP_KILL"}, // not inheritable: must be dropped
	}
	ops := decode(t, mustPlan(t, s).Bytes())
	id := ops[indexOf(ops, plan.OpIdentity)].Ints
	want := []uint64{1000, 100, 1, 2, 5, 6, 1<<5 | 1<<0}
	if len(id) != len(want) {
		t.Fatalf("identity ints = %v, want %v", id, want)
	}
	for i := range want {
		if id[i] != want[i] {
			t.Errorf("identity ints = %v, want %v", id, want)
			break
		}
	}
	caps := ops[indexOf(ops, plan.OpCaps)].Ints
	if len(caps) != 4 || caps[0] != 1<<5 || caps[1] != 1<<5 || caps[2] != 0 || caps[3] != 0 {
		t.Errorf("caps ints = %v, want [32 32 0 0]", caps)
	}
}

// TestPlanNoMountNamespace: without a mount namespace of its own the
// container must not mount anything: that would change the host's mounts.
func TestPlanNoMountNamespace(t *testing.T) {
	s := testSpec()
	s.Linux.Namespaces = []specs.LinuxNamespace{{Type: "pid"}, {Type: "uts"}}
	ops := decode(t, mustPlan(t, s).Bytes())
	for _, code := range []uint32{plan.OpRootfs, plan.OpMount, plan.OpMknod, plan.OpPivotRoot, plan.OpMask, plan.OpReadonly, plan.OpRemountRO} {
		if i := indexOf(ops, code); i >= 0 {
			t.Errorf("op %d in a plan without a mount namespace", code)
		}
	}
	if indexOf(ops, plan.OpChroot) < 0 {
		t.Errorf("no chroot into the rootfs")
	}
}
