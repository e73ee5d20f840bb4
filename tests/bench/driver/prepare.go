package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

// The bundles every runtime gets. All are derived from ONE spec file (runc's
// `spec` output) by the same edits, and share one read-only rootfs.
var bundleKinds = []struct {
	name string
	edit func(config map[string]any) error
}{
	// the default spec: all its namespaces, a cgroup, /bin/true
	{"run", func(c map[string]any) error { return setArgs(c, "/bin/true") }},
	// the same without a network namespace
	{"nonet", func(c map[string]any) error {
		if err := setArgs(c, "/bin/true"); err != nil {
			return err
		}
		return dropNamespace(c, "network")
	}},
	// a container that stays up for exec
	{"sleep", func(c map[string]any) error { return setArgs(c, "/bin/sleep", "1000") }},
}

func prepareMain(args []string) error {
	fs := flag.NewFlagSet("prepare", flag.ExitOnError)
	specPath := fs.String("spec", "", "config.json written by `runc spec`")
	rootfs := fs.String("rootfs", "", "the rootfs directory (made absolute in every config)")
	out := fs.String("out", "", "directory that receives one bundle directory per kind")
	fs.Parse(args)
	if *specPath == "" || *rootfs == "" || *out == "" {
		return fmt.Errorf("prepare: -spec, -rootfs and -out are required")
	}
	root, err := filepath.Abs(*rootfs)
	if err != nil {
		return err
	}
	data, err := os.ReadFile(*specPath)
	if err != nil {
		return err
	}
	for _, k := range bundleKinds {
		var c map[string]any
		if err := json.Unmarshal(data, &c); err != nil {
			return fmt.Errorf("%s: %w", *specPath, err)
		}
		if err := common(c, root); err != nil {
			return fmt.Errorf("%s: %w", *specPath, err)
		}
		if err := k.edit(c); err != nil {
			return fmt.Errorf("%s: %s: %w", *specPath, k.name, err)
		}
		dir := filepath.Join(*out, k.name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		b, _ := json.MarshalIndent(c, "", "\t")
		if err := os.WriteFile(filepath.Join(dir, "config.json"), append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// common: no terminal, and the shared rootfs by absolute path (runc refuses
// a symlinked rootfs, so the bundles cannot simply link to it).
func common(c map[string]any, rootfs string) error {
	proc, ok := c["process"].(map[string]any)
	if !ok {
		return fmt.Errorf("no process object")
	}
	proc["terminal"] = false
	r, ok := c["root"].(map[string]any)
	if !ok {
		return fmt.Errorf("no root object")
	}
	r["path"] = rootfs
	return nil
}

func setArgs(c map[string]any, args ...string) error {
	proc := c["process"].(map[string]any)
	list := make([]any, len(args))
	for i, a := range args {
		list[i] = a
	}
	proc["args"] = list
	return nil
}

func dropNamespace(c map[string]any, typ string) error {
	linux, ok := c["linux"].(map[string]any)
	if !ok {
		return fmt.Errorf("no linux object")
	}
	nss, _ := linux["namespaces"].([]any)
	var kept []any
	found := false
	for _, ns := range nss {
		if m, ok := ns.(map[string]any); ok && m["type"] == typ {
			found = true
			continue
		}
		kept = append(kept, ns)
	}
	if !found {
		return fmt.Errorf("the spec has no %s namespace to drop", typ)
	}
	linux["namespaces"] = kept
	return nil
}
