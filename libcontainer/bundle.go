package libcontainer

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
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
	relativeDestinations(&spec)
	if err := validateSpec(&spec); err != nil {
		return nil, fmt.Errorf("%s: %w", cfgPath, err)
	}
	b.Rootfs, err = resolveRootfs(abs, spec.Root.Path)
	if err != nil {
		return nil, err
	}
	given := spec.Root.Path
	if !filepath.IsAbs(given) {
		given = filepath.Join(abs, given)
	}
	stripRootfs(&spec, b.Rootfs, given)
	return b, nil
}

// relativeDestinations takes a relative mount destination as relative to
// "/", with runc's warning: the runtime-spec wants it absolute, and runc
// has always taken it so.
func relativeDestinations(s *specs.Spec) {
	for i, m := range s.Mounts {
		if m.Destination != "" && !filepath.IsAbs(m.Destination) {
			logrus.Warnf("mount destination %s is not absolute. Support for non-absolute mount destinations will be removed in a future release.", m.Destination)
			s.Mounts[i].Destination = "/" + m.Destination
		}
	}
}

// stripRootfs takes a destination that names a path under the rootfs as
// the host sees it (runc's own tests write them so) as that path inside
// the container, as runc does. roots are the rootfs, resolved and as given.
func stripRootfs(s *specs.Spec, roots ...string) {
	for i, m := range s.Mounts {
		dst := filepath.Clean(m.Destination)
		for _, root := range roots {
			root = filepath.Clean(root)
			if root == "/" {
				continue
			}
			if dst == root {
				s.Mounts[i].Destination = "/"
				break
			}
			if rel, ok := strings.CutPrefix(dst, root+"/"); ok {
				s.Mounts[i].Destination = "/" + rel
				break
			}
		}
	}
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
