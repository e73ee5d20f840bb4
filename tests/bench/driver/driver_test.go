package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"
)

func TestRoundRatiosPairRoundsAndSkipGaps(t *testing.T) {
	a := [][]float64{{10, 20, 30}, {40}, nil, {9}}
	b := [][]float64{{5, 10, 15}, {10}, {7}, {3}}
	got := roundRatios(a, b)
	want := []float64{2, 4, 3}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-9 {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
	if m := median([]float64{4, 1, 3, 2}); m != 2.5 {
		t.Errorf("median %v", m)
	}
}

func TestPrepareMakesOneSpecIntoBundles(t *testing.T) {
	dir := t.TempDir()
	spec := `{"ociVersion": "1.0.2-dev", "process": {"terminal": true, "args": ["sh"], "cwd": "/"},
		"root": {"path": "rootfs", "readonly": true}, "hostname": "runc",
		"linux": {"namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "mount"}]}}`
	specPath := filepath.Join(dir, "config.json")
	os.WriteFile(specPath, []byte(spec), 0o644)
	if err := prepareMain([]string{"-spec", specPath, "-rootfs", filepath.Join(dir, "rootfs"), "-out", filepath.Join(dir, "b")}); err != nil {
		t.Fatal(err)
	}
	read := func(kind string) map[string]any {
		data, err := os.ReadFile(filepath.Join(dir, "b", kind, "config.json"))
		if err != nil {
			t.Fatal(err)
		}
		var c map[string]any
		json.Unmarshal(data, &c)
		return c
	}
	run, nonet, sleep := read("run"), read("nonet"), read("sleep")
	if p := run["process"].(map[string]any); p["terminal"] != false || p["args"].([]any)[0] != "/bin/true" {
		t.Errorf("run process %v", p)
	}
	if r := run["root"].(map[string]any); r["path"] != filepath.Join(dir, "rootfs") || r["readonly"] != true {
		t.Errorf("run root %v", r)
	}
	if n := len(run["linux"].(map[string]any)["namespaces"].([]any)); n != 3 {
		t.Errorf("run has %d namespaces", n)
	}
	for _, ns := range nonet["linux"].(map[string]any)["namespaces"].([]any) {
		if ns.(map[string]any)["type"] == "network" {
			t.Errorf("nonet kept the network namespace")
		}
	}
	if a := sleep["process"].(map[string]any)["args"].([]any); len(a) != 2 || a[0] != "/bin/sleep" {
		t.Errorf("sleep args %v", a)
	}
	if run["hostname"] != "runc" {
		t.Errorf("an unrelated field changed: %v", run["hostname"])
	}
}

func TestParseSmapsRollupReadsKiBFields(t *testing.T) {
	data := []byte(`55d0c0a00000-7ffd2b3f1000 ---p 00000000 00:00 0                          [rollup]
Rss:                 884 kB
Pss:                 150 kB
Pss_Dirty:            96 kB
Shared_Clean:        740 kB
Private_Clean:        12 kB
Private_Dirty:       132 kB
Swap:                  0 kB
`)
	f, err := parseSmapsRollup(data)
	if err != nil {
		t.Fatal(err)
	}
	if f["Pss"] != 150 || f["Rss"] != 884 {
		t.Errorf("Pss %v Rss %v", f["Pss"], f["Rss"])
	}
	if u := uss(f); u != 144 {
		t.Errorf("USS %v, want 12 + 132", u)
	}
	if _, err := parseSmapsRollup([]byte("Rss: 1 kB\n")); err == nil {
		t.Error("a rollup without Pss parsed")
	}
	if _, err := parseSmapsRollup([]byte("Pss: x kB\n")); err == nil {
		t.Error("a non-number parsed")
	}
}
