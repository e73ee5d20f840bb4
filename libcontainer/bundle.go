package libcontainer

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Bundle is an OCI bundle: its absolute path, its config and the resolved rootfs.
type Bundle struct {
	Path   string
	Rootfs string
	Spec   *specs.Spec
}

// LoadBundle reads and validates <dir>/config.json and resolves the rootfs.
func LoadBundle(dir string) (*Bundle, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("bundle %q: %w", dir, err)
	}
	cfgPath := filepath.Join(abs, "config.json")
	data, err := os.ReadFile(cfgPath)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("bundle %q: config.json not found", abs)
		}
		return nil, fmt.Errorf("read %s: %w", cfgPath, err)
	}
	var spec specs.Spec
	if err := json.Unmarshal(data, &spec); err != nil {
		return nil, fmt.Errorf("parse %s: %w", cfgPath, err)
	}
	b := &Bundle{Path: abs, Spec: &spec}
	if err := validateSpec(&spec); err != nil {
		return nil, fmt.Errorf("%s: %w", cfgPath, err)
	}
	b.Rootfs, err = resolveRootfs(abs, spec.Root.Path)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// resolveRootfs makes root.path absolute (relative paths are relative to the
// bundle) and resolves host symlinks, so the init gets one trusted path.
func resolveRootfs(bundle, root string) (string, error) {
	if !filepath.IsAbs(root) {
		root = filepath.Join(bundle, root)
	}
	real, err := filepath.EvalSymlinks(root)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("rootfs %q does not exist", root)
		}
		return "", fmt.Errorf("rootfs %q: %w", root, err)
	}
	st, err := os.Stat(real)
	if err != nil {
		return "", fmt.Errorf("rootfs %q: %w", root, err)
	}
	if !st.IsDir() {
		return "", fmt.Errorf("rootfs %q is not a directory", root)
	}
	return real, nil
}
