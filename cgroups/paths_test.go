package cgroups

import (
	"strings"
	"testing"
)

func TestParseProcCgroup(t *testing.T) {
	own, err := parseProcCgroup("12:cpu,cpuacct:/a\n9:name=systemd:/s\n4:memory:/m/x\n0::/u\n")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"cpu": "/a", "cpuacct": "/a", "name=systemd": "/s", "memory": "/m/x", "": "/u"}
	for k, v := range want {
		if own[k] != v {
			t.Errorf("own[%q] = %q, want %q", k, own[k], v)
		}
	}
	if _, err := parseProcCgroup("garbage\n"); err == nil {
		t.Error("garbage accepted")
	}
}

func TestInnerPath(t *testing.T) {
	for _, c := range []struct{ path, id, own, want string }{
		{"/abs/x", "c1", "/own", "/abs/x"},
		{"/abs/../../x", "c1", "/own", "/x"},
		{"rel/x", "c1", "/own", "/own/rel/x"},
		{"../../escape", "c1", "/own", "/own/escape"},
		{"", "c1", "/own", "/own/c1"},
		{"", "c1", "/", "/c1"},
	} {
		got, err := innerPath(c.path, c.id, c.own)
		if err != nil || got != c.want {
			t.Errorf("innerPath(%q, %q, %q) = %q, %v; want %q", c.path, c.id, c.own, got, err, c.want)
		}
	}
	if _, err := innerPath("/", "x", "/"); err == nil {
		t.Error("root cgroup accepted")
	}
	for _, id := range []string{"", "..", "a/b", strings.Repeat("x", 2000)} {
		if err := validateID(id); err == nil {
			t.Errorf("id %q accepted", id)
		}
	}
}

func TestConversions(t *testing.T) {
	for _, c := range []struct{ shares, weight uint64 }{{0, 0}, {2, 1}, {1024, 39}, {262144, 10000}} {
		if got := SharesToWeight(c.shares); got != c.weight {
			t.Errorf("SharesToWeight(%d) = %d, want %d", c.shares, got, c.weight)
		}
	}
	if got := BlkioWeightToIOWeight(500); got != 4950 {
		t.Errorf("BlkioWeightToIOWeight(500) = %d", got)
	}
	for _, c := range []struct {
		swap, limit, want int64
		ok                bool
	}{
		{0, -1, -1, true}, {-1, 100, -1, true}, {0, 100, 0, true}, {300, 100, 200, true},
		{50, 100, 0, false}, {300, 0, 0, false},
	} {
		got, err := SwapToV2(c.swap, c.limit)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("SwapToV2(%d, %d) = %d, %v", c.swap, c.limit, got, err)
		}
	}
}

func TestDeviceRuleParsing(t *testing.T) {
	rules, err := parseDeviceRules(DefaultAllowedDevices())
	if err != nil {
		t.Fatal(err)
	}
	if got := rules[0].v1Line(); got != "c *:* m" {
		t.Errorf("first default rule = %q", got)
	}
	for _, r := range rules {
		if r.v1Line() == "c 136:* rwm" {
			return
		}
	}
	t.Error("pts rule missing from defaults")
}
