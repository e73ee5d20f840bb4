package libcontainer

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// The fuzz targets run for a few seconds each in `make fuzz` (part of
// `make test`); their corpora live in testdata/fuzz/<Target>/. Each checks
// a property, not only the absence of a panic.

// FuzzValidateID: an accepted ID is one clean path component that stays
// inside the state root.
func FuzzValidateID(f *testing.F) {
	for _, s := range []string{"web", "a.b-c_d+e", "..", ".", "a/b", "", "x\x00y", strings.Repeat("a", 1025), "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		if ValidateID(id) != nil {
			return
		}
		root := "/run/casco"
		dir := filepath.Join(root, id)
		if filepath.Dir(dir) != root || filepath.Base(dir) != id || strings.ContainsAny(id, "/\x00") || len(id) > maxIDLength {
			t.Fatalf("accepted id %q resolves to %q", id, dir)
		}
	})
}

// FuzzParseMountOptions: no known flag leaks into the filesystem data, and
// the parse is a function of its input.
func FuzzParseMountOptions(f *testing.F) {
	for _, s := range []string{"rbind,ro", "nosuid,nodev,mode=755,size=64k", "rw,ro,rw", "rshared,x-foo,tmpcopyup", "idmap", ",,", "remount,bind"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, joined string) {
		opts := strings.Split(joined, ",")
		flags, prop, data, err := parseMountOptions(opts)
		flags2, prop2, data2, err2 := parseMountOptions(opts)
		if flags != flags2 || prop != prop2 || data != data2 || (err == nil) != (err2 == nil) {
			t.Fatalf("parse of %q is not deterministic", joined)
		}
		if err != nil {
			return
		}
		for _, d := range strings.Split(data, ",") {
			if _, ok := mountFlags[d]; ok {
				t.Fatalf("flag %q of %q passed to the filesystem as data %q", d, joined, data)
			}
			if _, ok := propagationFlags[d]; ok {
				t.Fatalf("propagation %q of %q passed as data %q", d, joined, data)
			}
		}
	})
}

// FuzzConfig: config.json as a bundle gives it: decode, validate, and for a
// valid config build the init's plan. Whatever is accepted must encode into
// a plan the C init reads back exactly (every string as it will see it).
func FuzzConfig(f *testing.F) {
	seed, _ := json.Marshal(testSpec())
	f.Add(seed)
	f.Add([]byte(`{"ociVersion":"1.3.0","root":{"path":"rootfs"},"process":{"args":["sh"],"cwd":"/"},"linux":{"namespaces":[{"type":"mount"}],"devices":[{"path":"/dev/x\u0000/../../etc/x","type":"c","major":1,"minor":3}]}}`))
	f.Add([]byte(`{"root":{"path":"r"},"process":{"args":["a\u0000b"],"cwd":"/"},"linux":{}}`))
	f.Add([]byte(`{"root":{"path":"r"},"process":{"args":["a"],"cwd":"/"},"mounts":[{"destination":"/x","type":"tmpfs","options":["ro","mode=1777"]}],"linux":{"namespaces":[{"type":"mount"},{"type":"user"}],"uidMappings":[{"containerID":0,"hostID":1,"size":1}],"gidMappings":[{"containerID":0,"hostID":1,"size":1}]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := decodeSpec(data)
		if err != nil || validateSpec(s) != nil {
			return
		}
		if _, err := planNamespaces(s); err != nil {
			return
		}
		p, err := buildPlan(testInput(s))
		if err != nil {
			return
		}
		ops, err := decodePlan(p.bytes())
		if err != nil {
			t.Fatalf("accepted config encodes a plan the init cannot read: %v", err)
		}
		for _, op := range ops {
			if op.code == opSeccomp {
				continue // binary, read by length
			}
			for _, str := range op.strs {
				if strings.IndexByte(str, 0) >= 0 {
					t.Fatalf("op %d carries a string with a NUL, which the C init would cut short: %q", op.code, str)
				}
			}
		}
	})
}

// FuzzPlanEncoding: any operation round-trips through the wire format.
func FuzzPlanEncoding(f *testing.F) {
	f.Add(uint32(opMount), uint64(1), uint64(1<<63), "tmpfs", "/dev")
	f.Add(uint32(opExec), uint64(0), uint64(0), "", "")
	f.Fuzz(func(t *testing.T, code uint32, a, b uint64, s1, s2 string) {
		if strings.IndexByte(s1, 0) >= 0 || strings.IndexByte(s2, 0) >= 0 {
			t.Skip("strings with NUL are refused before encoding")
		}
		p := &plan{}
		p.add(code, ints(a, b), s1, s2)
		p.add(opReady, nil)
		ops, err := decodePlan(p.bytes())
		if err != nil {
			t.Fatal(err)
		}
		if len(ops) != 2 || ops[0].code != code || len(ops[0].ints) != 2 || ops[0].ints[0] != a || ops[0].ints[1] != b ||
			len(ops[0].strs) != 2 || ops[0].strs[0] != s1 || ops[0].strs[1] != s2 || ops[1].code != opReady {
			t.Fatalf("round trip changed the plan: %+v", ops)
		}
	})
}

// FuzzLoadState: a state.json of any content is refused or loaded; what
// loads has a config that decodes or is refused, never a panic.
func FuzzLoadState(f *testing.F) {
	f.Add([]byte(`{"id":"x","init_process_pid":1,"init_process_start":5,"config":{"process":{"args":["sh"]}},"cgroup_paths":{"pids":"/sys/fs/cgroup/pids/x"}}`))
	f.Add([]byte(`{"id":"x","config":null}`))
	f.Add([]byte(`{"config":"\u0000"}`))
	dir := f.TempDir() // one file rewritten per input: a directory each costs more than the test
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(filepath.Join(dir, stateFile), data, 0o600); err != nil {
			t.Fatal(err)
		}
		st, err := loadState(dir, "fuzz")
		if err != nil {
			return
		}
		c := &Container{Dir: dir, State: st}
		c.Spec()
		c.hooks()
		c.namespaces()
	})
}

// decodeSpec decodes config.json as LoadBundle does.
func decodeSpec(data []byte) (*specs.Spec, error) {
	var s specs.Spec
	err := json.Unmarshal(data, &s)
	return &s, err
}

// decodePlan reads a plan the way nsenter.c does (strings end at their
// first NUL, as C sees them); it reports framing errors.
func decodePlan(b []byte) ([]decodedOp, error) {
	bad := errors.New("malformed plan")
	if len(b) < 4 || int(binary.NativeEndian.Uint32(b)) != len(b)-4 {
		return nil, bad
	}
	b = b[4:]
	var ops []decodedOp
	u32 := func() (uint32, bool) {
		if len(b) < 4 {
			return 0, false
		}
		v := binary.NativeEndian.Uint32(b)
		b = b[4:]
		return v, true
	}
	for len(b) > 0 {
		var op decodedOp
		var ni, ns uint32
		var ok1, ok2, ok3 bool
		op.code, ok1 = u32()
		ni, ok2 = u32()
		ns, ok3 = u32()
		if !ok1 || !ok2 || !ok3 || uint64(len(b)) < uint64(ni)*8 {
			return nil, bad
		}
		for i := uint32(0); i < ni; i++ {
			op.ints = append(op.ints, binary.NativeEndian.Uint64(b))
			b = b[8:]
		}
		for i := uint32(0); i < ns; i++ {
			n, ok := u32()
			if !ok || n == 0 || uint64(n) > uint64(len(b)) || b[n-1] != 0 {
				return nil, bad
			}
			str := b[:n-1]
			if i := bytes.IndexByte(str, 0); i >= 0 {
				op.strs = append(op.strs, string(str[:i])+"\x00") // marks the cut the C side would make
			} else {
				op.strs = append(op.strs, string(str))
			}
			b = b[n:]
		}
		ops = append(ops, op)
	}
	return ops, nil
}
