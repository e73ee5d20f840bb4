package libcontainer

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"

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
	data, err := readConfig(cfgPath)
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
	if err := checkNUL(data, &spec); err != nil {
		return nil, fmt.Errorf("%s: %w", cfgPath, err)
	}
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

// readConfig reads config.json, refusing anything but a regular file of at
// most maxConfigSize (a FIFO would block, a huge file would take the host's
// memory).
func readConfig(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file (%v)", st.Mode().Type())
	}
	if st.Size() > maxConfigSize {
		return nil, fmt.Errorf("%d bytes, more than the limit of %d MiB", st.Size(), maxConfigSize>>20)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxConfigSize+1))
	if err == nil && len(data) > maxConfigSize {
		err = fmt.Errorf("more than the limit of %d MiB", maxConfigSize>>20)
	}
	return data, err
}
