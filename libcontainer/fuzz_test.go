package libcontainer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/casco-runtime/casco/libcontainer/plan"
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
		ops, err := plan.Decode(p.Bytes())
		if err != nil {
			t.Fatalf("accepted config encodes a plan the init cannot read: %v", err)
		}
		for _, op := range ops {
			if op.Code == plan.OpSeccomp {
				continue // binary, read by length
			}
			for _, str := range op.Strs {
				if strings.IndexByte(str, 0) >= 0 {
					t.Fatalf("op %d carries a string with a NUL, which the C init would cut short: %q", op.Code, str)
				}
			}
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
