package plan

import (
	"go/ast"
	"go/constant"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The plan is a contract between two languages: the op codes, mount kinds,
// mount extras and sync bytes are written once in plan.go and once in
// nsenter/init/plan.h. This test reads both sources and holds them equal,
// name by name and value by value, so neither side can drift alone.

// goPlanConstants type-checks the const blocks of plan.go on their own and
// returns every constant's value by its name.
func goPlanConstants(t *testing.T) map[string]int64 {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "plan.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	consts := &ast.File{Name: f.Name}
	for _, d := range f.Decls {
		if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.CONST {
			consts.Decls = append(consts.Decls, g)
		}
	}
	pkg, err := new(types.Config).Check("plan", fset, []*ast.File{consts}, nil)
	if err != nil {
		t.Fatalf("type-check plan.go's constants: %v", err)
	}
	out := map[string]int64{}
	for _, name := range pkg.Scope().Names() {
		c, ok := pkg.Scope().Lookup(name).(*types.Const)
		if !ok {
			continue
		}
		v, exact := constant.Int64Val(c.Val())
		if !exact {
			t.Fatalf("plan.go: %s is not an integer constant", name)
		}
		out[name] = v
	}
	return out
}

var (
	cEnumBody   = regexp.MustCompile(`(?s)enum\s+\w+\s*\{(.*?)\};`)
	cEnumMember = regexp.MustCompile(`^\s*([A-Z][A-Z0-9_]*)\s*(?:=\s*(\d+))?\s*,?`)
	cDefine     = regexp.MustCompile(`(?m)^#define\s+([A-Z][A-Z0-9_]*)\s+('.'|\d+)`)
	cComment    = regexp.MustCompile(`(?s)/\*.*?\*/`)
)

// cPlanConstants reads plan.h's enums (counting up as C does) and its
// numeric and character #defines.
func cPlanConstants(t *testing.T) map[string]int64 {
	t.Helper()
	src, err := os.ReadFile("../../nsenter/init/plan.h")
	if err != nil {
		t.Fatal(err)
	}
	text := cComment.ReplaceAllString(string(src), "")
	out := map[string]int64{}
	for _, body := range cEnumBody.FindAllStringSubmatch(text, -1) {
		next := int64(0)
		for _, line := range strings.Split(body[1], ",") {
			m := cEnumMember.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			if m[2] != "" {
				next, _ = strconv.ParseInt(m[2], 10, 64)
			}
			out[m[1]] = next
			next++
		}
	}
	for _, m := range cDefine.FindAllStringSubmatch(text, -1) {
		if strings.HasPrefix(m[2], "'") {
			out[m[1]] = int64(m[2][1])
		} else {
			out[m[1]], _ = strconv.ParseInt(m[2], 10, 64)
		}
	}
	return out
}

// contractKey folds both spellings of a name to one key: OP_CGROUP_JOIN and
// OpCgroupJoin are "op:cgroupjoin"; MNT_DIR and MountDir are "mount:dir".
func contractKey(name string) string {
	lower := strings.ToLower(strings.ReplaceAll(name, "_", ""))
	for _, p := range []struct{ c, g, key string }{
		{"OP_", "Op", "op:"}, {"MNT_", "Mount", "mount:"}, {"MOUNT_", "Mount", "mount:"}, {"SYNC_", "Sync", "sync:"},
	} {
		if strings.HasPrefix(name, p.c) {
			return p.key + strings.TrimPrefix(lower, strings.ToLower(strings.ReplaceAll(p.c, "_", "")))
		}
		if len(name) > len(p.g) && strings.HasPrefix(name, p.g) && name[len(p.g)] >= 'A' && name[len(p.g)] <= 'Z' {
			return p.key + strings.TrimPrefix(lower, strings.ToLower(p.g))
		}
	}
	return ""
}

func TestContractMatchesInitHeader(t *testing.T) {
	goSide, cSide := map[string]string{}, map[string]string{}
	goVal, cVal := map[string]int64{}, map[string]int64{}
	for name, v := range goPlanConstants(t) {
		if k := contractKey(name); k != "" {
			goSide[k], goVal[k] = name, v
		}
	}
	for name, v := range cPlanConstants(t) {
		if k := contractKey(name); k != "" {
			cSide[k], cVal[k] = name, v
		}
	}
	if len(cSide) < 50 {
		t.Fatalf("read only %d constants from plan.h: the parser no longer understands it", len(cSide))
	}
	for k, cName := range cSide {
		gName, ok := goSide[k]
		switch {
		case !ok:
			t.Errorf("plan.h has %s = %d; plan.go has no constant for it", cName, cVal[k])
		case goVal[k] != cVal[k]:
			t.Errorf("%s = %d in plan.h but %s = %d in plan.go", cName, cVal[k], gName, goVal[k])
		}
	}
	for k, gName := range goSide {
		if _, ok := cSide[k]; !ok {
			t.Errorf("plan.go has %s = %d; plan.h has no constant for it", gName, goVal[k])
		}
	}
}
