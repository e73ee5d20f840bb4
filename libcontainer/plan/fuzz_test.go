package plan

import (
	"strings"
	"testing"
)

// The fuzz targets run for a few seconds each in `make fuzz` (part of
// `make test`); their corpora live in testdata/fuzz/<Target>/. Each checks
// a property, not only the absence of a panic.

// FuzzParseMountOptions: no known flag leaks into the filesystem data, and
// the parse is a function of its input.
func FuzzParseMountOptions(f *testing.F) {
	for _, s := range []string{"rbind,ro", "nosuid,nodev,mode=755,size=64k", "rw,ro,rw", "rshared,x-foo,tmpcopyup", "idmap", ",,", "remount,bind"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, joined string) {
		opts := strings.Split(joined, ",")
		flags, prop, data, err := ParseMountOptions(opts)
		flags2, prop2, data2, err2 := ParseMountOptions(opts)
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

// FuzzPlanEncoding: any operation round-trips through the wire format.
func FuzzPlanEncoding(f *testing.F) {
	f.Add(uint32(OpMount), uint64(1), uint64(1<<63), "tmpfs", "/dev")
	f.Add(uint32(OpExec), uint64(0), uint64(0), "", "")
	f.Fuzz(func(t *testing.T, code uint32, a, b uint64, s1, s2 string) {
		if strings.IndexByte(s1, 0) >= 0 || strings.IndexByte(s2, 0) >= 0 {
			t.Skip("strings with NUL are refused before encoding")
		}
		p := &Plan{}
		p.Add(code, Ints(a, b), s1, s2)
		p.Add(OpReady, nil)
		ops, err := Decode(p.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		if len(ops) != 2 || ops[0].Code != code || len(ops[0].Ints) != 2 || ops[0].Ints[0] != a || ops[0].Ints[1] != b ||
			len(ops[0].Strs) != 2 || ops[0].Strs[0] != s1 || ops[0].Strs[1] != s2 || ops[1].Code != OpReady {
			t.Fatalf("round trip changed the plan: %+v", ops)
		}
	})
}
