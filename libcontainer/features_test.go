package libcontainer

import (
	"sort"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/casco-runtime/casco/libcontainer/internal/intelrdt"
	"github.com/casco-runtime/casco/libcontainer/plan"
)

// The tests below tie `features` to the code paths: whatever features
// lists must reach an operation of the plan (or a cgroup/resctrl write),
// and whatever the code honors must be listed. A feature added to one
// side only fails here.

// planOps builds the plan of s and returns its op codes.
func planOps(t *testing.T, s *specs.Spec) []plan.Op {
	t.Helper()
	return decode(t, mustPlan(t, s).Bytes())
}

func hasOp(ops []plan.Op, code uint32) bool { return indexOf(ops, code) >= 0 }

// TestFeaturesMountOptions: every listed mount option is carried out by
// casco (a mount(2) flag, a propagation, a recursive attribute or one of
// casco's own operations), never passed to the kernel as data; every
// option the parser honors is listed.
func TestFeaturesMountOptions(t *testing.T) {
	listed := map[string]bool{}
	for _, o := range Features().MountOptions {
		listed[o] = true
		if _, _, data, _ := plan.ParseMountOptions([]string{o}); data != "" {
			t.Errorf("features lists %q but it would be passed to the kernel as data", o)
		}
		// some mount kind takes it
		src := t.TempDir()
		bind := specs.Mount{Destination: "/d", Type: "bind", Source: src, Options: []string{"rbind", o}}
		tmpfs := specs.Mount{Destination: "/d", Type: "tmpfs", Source: "tmpfs", Options: []string{o}}
		errB, errT := plan.CheckMountKind(bind), plan.CheckMountKind(tmpfs)
		if errB != nil && errT != nil {
			t.Errorf("features lists %q but no mount kind takes it: %v; %v", o, errB, errT)
		}
		// and it changes the plan: a flag, a propagation, or an op of its own
		m := bind
		if errB != nil {
			m = tmpfs
		}
		s := testSpec()
		s.Mounts = []specs.Mount{m}
		// a clearing flag (rw, dev, ...) changes nothing on its own: it undoes its opposite
		clears := plan.ClearsFlag(o)
		if !clears && o != "defaults" && o != "bind" && o != "rbind" && o != "remount" && sameMountPlan(t, s, m) {
			t.Errorf("features lists %q but the plan ignores it", o)
		}
	}
	honored := plan.OptionNames(haveMountSetattr())
	for _, o := range honored {
		if !listed[o] {
			t.Errorf("casco honors mount option %q but features does not list it", o)
		}
	}
	if listed["bogus"] || listed["size=1m"] {
		t.Errorf("features lists options casco does not know")
	}
}

// sameMountPlan says whether the mount's options leave its plan as it is
// without them.
func sameMountPlan(t *testing.T, s *specs.Spec, m specs.Mount) bool {
	t.Helper()
	with := planOps(t, s)
	bare := m
	bare.Options = nil
	if m.Type == "bind" {
		bare.Options = []string{"rbind"}
	}
	s2 := testSpec()
	s2.Mounts = []specs.Mount{bare}
	without := planOps(t, s2)
	if len(with) != len(without) {
		return false
	}
	for i := range with {
		if with[i].Code != without[i].Code || len(with[i].Ints) != len(without[i].Ints) || strings.Join(with[i].Strs, "\x00") != strings.Join(without[i].Strs, "\x00") {
			return false
		}
		for j := range with[i].Ints {
			if with[i].Ints[j] != without[i].Ints[j] {
				return false
			}
		}
	}
	return true
}

// TestFeaturesLinux: the linux section says what the plan does.
func TestFeaturesLinux(t *testing.T) {
	f := Features().Linux

	var ns []string
	for n := range namespaceFlags {
		ns = append(ns, string(n))
	}
	sort.Strings(ns)
	if strings.Join(ns, ",") != strings.Join(f.Namespaces, ",") {
		t.Errorf("features namespaces %v, the code knows %v", f.Namespaces, ns)
	}

	// idmap: listed exactly when the kernel has mount_setattr, and then an
	// idmap bind becomes an idmapped-mount operation
	if got := *f.MountExtensions.IDMap.Enabled; got != haveMountSetattr() {
		t.Errorf("mountExtensions.idmap.enabled = %v, the kernel's mount_setattr: %v", got, haveMountSetattr())
	}
	s := testSpec()
	s.Mounts = []specs.Mount{{Destination: "/d", Type: "bind", Source: t.TempDir(), Options: []string{"rbind", "idmap"}}}
	if ops := planOps(t, s); !hasOp(ops, plan.OpIdmapMount) {
		t.Errorf("an idmap bind makes no idmapped mount operation")
	}

	// memory policy: every listed mode and flag builds set_mempolicy
	if f.MemoryPolicy == nil || len(f.MemoryPolicy.Modes) == 0 {
		t.Fatalf("features lists no memory policy modes")
	}
	for _, mode := range f.MemoryPolicy.Modes {
		mp := &specs.LinuxMemoryPolicy{Mode: specs.MemoryPolicyModeType(mode)}
		if mempolicyModes[mp.Mode].nodes == 1 {
			mp.Nodes = "0"
		}
		p := &planBuilder{}
		if err := p.memoryPolicy(mp); err != nil {
			t.Errorf("listed mode %s: %v", mode, err)
		}
		if ops := decode(t, p.Bytes()); !hasOp(ops, plan.OpMempolicy) {
			t.Errorf("listed mode %s makes no set_mempolicy", mode)
		}
	}
	for _, flag := range f.MemoryPolicy.Flags {
		p := &planBuilder{}
		mp := &specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: "0", Flags: []specs.MemoryPolicyFlagType{specs.MemoryPolicyFlagType(flag)}}
		if err := p.memoryPolicy(mp); err != nil {
			t.Errorf("listed flag %s: %v", flag, err)
		}
	}
	if len(f.MemoryPolicy.Modes) != len(mempolicyModes) && kernelAtLeast(6, 9) {
		t.Errorf("a %d-mode kernel lists %d modes", len(mempolicyModes), len(f.MemoryPolicy.Modes))
	}

	// netDevices: enabled, and a config with one is accepted and moved
	if f.NetDevices == nil || !*f.NetDevices.Enabled {
		t.Errorf("netDevices not listed")
	}
	s = testSpec()
	s.Linux.NetDevices = map[string]specs.LinuxNetDevice{"eth1": {Name: "ctr0"}}
	if err := validateNetDevices(s); err != nil {
		t.Errorf("netDevices listed but refused: %v", err)
	}

	// intelRdt: enabled exactly when resctrl is mounted; otherwise refused
	if got := *f.IntelRdt.Enabled; got != intelrdt.Mounted() {
		t.Errorf("intelRdt.enabled = %v, resctrl mounted: %v", got, intelrdt.Mounted())
	}
	err := intelrdt.Validate(&specs.LinuxIntelRdt{})
	if (err == nil) != *f.IntelRdt.Enabled {
		t.Errorf("intelRdt.enabled = %v but validation says %v", *f.IntelRdt.Enabled, err)
	}
}

// everyCPU reports whether ops hold exactly one CPU affinity operation and
// it is the reset to every CPU.
func everyCPU(ops []plan.Op) bool {
	n := 0
	for _, op := range ops {
		if op.Code == plan.OpCPUAffinity {
			n++
			if len(op.Ints) != 2 || op.Ints[0] != 0 || op.Ints[1] != 1 {
				return false
			}
		}
	}
	return n == 1
}

// TestProcessExtPlan: the process fields of 1.3 each add their operation,
// and nothing is added when they are absent (no cost on the start path)
// but the reset of the CPU affinity every process gets.
func TestProcessExtPlan(t *testing.T) {
	base := planOps(t, testSpec())
	for _, code := range []uint32{plan.OpSched, plan.OpIOPrio, plan.OpPersonality, plan.OpMempolicy, plan.OpMountAttr, plan.OpIdmapMount, plan.OpTmpcopyup} {
		if hasOp(base, code) {
			t.Errorf("the default spec's plan has op %s", plan.OpNames[int(code)])
		}
	}
	if !everyCPU(base) {
		t.Errorf("the default spec's plan does not reset the affinity to every CPU once")
	}
	s := testSpec()
	s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedBatch}
	s.Process.IOPriority = &specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_BE, Priority: 4}
	s.Process.ExecCPUAffinity = &specs.CPUAffinity{Initial: "0", Final: "0-1"}
	s.Linux.Personality = &specs.LinuxPersonality{Domain: specs.PerLinux32}
	ops := planOps(t, s)
	for _, code := range []uint32{plan.OpSched, plan.OpIOPrio, plan.OpPersonality} {
		if !hasOp(ops, code) {
			t.Errorf("no %s operation", plan.OpNames[int(code)])
		}
	}
	// execCPUAffinity is for exec'd processes: "not applicable to the
	// container's init process" (runtime-spec)
	if !everyCPU(ops) {
		t.Errorf("the init's plan sets an affinity from process.execCPUAffinity")
	}
	if sched, id := indexOf(ops, plan.OpSched), indexOf(ops, plan.OpIdentity); sched > id {
		t.Errorf("scheduler set after the identity change (op %d > %d): CAP_SYS_NICE is gone by then", sched, id)
	}
}

func TestParseCPUList(t *testing.T) {
	for in, want := range map[string][]uint64{"0": {1}, "0-3,7": {0x8f}, "64": {0, 1}, "1,1": {2}} {
		got, err := parseCPUList(in)
		if err != nil || len(got) != len(want) {
			t.Errorf("parseCPUList(%q) = %v, %v; want %v", in, got, err, want)
			continue
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("parseCPUList(%q) = %#x, want %#x", in, got, want)
			}
		}
	}
	for _, in := range []string{"", "a", "3-1", "1-", "9000", "-1"} {
		if _, err := parseCPUList(in); err == nil {
			t.Errorf("parseCPUList(%q) accepted", in)
		}
	}
}
