package cgroups

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/casco-runtime/casco/libcontainer/fault"
)

// v1 freezer: writing FROZEN starts freezing; the state reads FREEZING
// until every task has stopped. A task stuck in an uninterruptible sleep
// can keep it there, so the write is repeated now and then (that is how
// the kernel retries) and on timeout the cgroup is thawed again rather
// than left half-frozen — runc's approach.

const freezeTimeout = 5 * time.Second

func (m *fsManager) freezerDir() (string, error) {
	d, ok := m.paths["freezer"]
	if !ok {
		return "", fmt.Errorf("cgroup controller \"freezer\" is not available: cannot pause or resume")
	}
	return d, nil
}

func (m *fsManager) Freeze() error {
	dir, err := m.freezerDir()
	if err != nil {
		return err
	}
	delay := 50 * time.Microsecond
	deadline := time.Now().Add(freezeTimeout)
	for i := 0; ; i++ {
		if i%25 == 0 {
			if err := writeFile(dir, "freezer.state", "FROZEN"); err != nil {
				if i > 0 { // an earlier FROZEN took: never leave it half done
					_ = writeFile(dir, "freezer.state", "THAWED")
				}
				return fmt.Errorf("freeze %s: %w", dir, err)
			}
		}
		state, err := readFile(dir, "freezer.state")
		if err == nil { // the fault build fails the read back here
			err = fault.Step("freeze", "state read back")
		}
		if err != nil {
			// FROZEN was written: never leave it half done
			if terr := writeFile(dir, "freezer.state", "THAWED"); terr != nil {
				return fmt.Errorf("freeze %s: %w; and thawing it again: %v", dir, err, terr)
			}
			return fmt.Errorf("freeze %s: %w; thawed again", dir, err)
		}
		state = strings.TrimSpace(state)
		if state == "FROZEN" {
			return nil
		}
		if time.Now().After(deadline) {
			_ = writeFile(dir, "freezer.state", "THAWED")
			return fmt.Errorf("freeze %s: still %s after %v; thawed again", dir, state, freezeTimeout)
		}
		time.Sleep(delay)
		if delay < 10*time.Millisecond {
			delay *= 2
		}
	}
}

func (m *fsManager) Thaw() error {
	dir, err := m.freezerDir()
	if err != nil {
		return err
	}
	if err := writeFile(dir, "freezer.state", "THAWED"); err != nil {
		return fmt.Errorf("thaw %s: %w", dir, err)
	}
	return waitFile(dir, "freezer.state", "THAWED")
}

// waitFile polls a state file until it reads want.
func waitFile(dir, file, want string) error {
	delay := 50 * time.Microsecond
	deadline := time.Now().Add(freezeTimeout)
	for {
		s, err := readFile(dir, file)
		if err != nil {
			return err
		}
		if strings.TrimSpace(s) == want {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s/%s: still %q after %v, want %q", dir, file, strings.TrimSpace(s), freezeTimeout, want)
		}
		time.Sleep(delay)
		if delay < 10*time.Millisecond {
			delay *= 2
		}
	}
}

// FrozenAncestor names the ancestor of a v1 freezer cgroup that someone
// froze (freezer.parent_freezing): its tasks cannot run, nor die, until
// that one is thawed. "" when there is none (or no v1 freezer).
func FrozenAncestor(paths map[string]string) string {
	dir, ok := paths["freezer"]
	if !ok {
		return ""
	}
	if s, err := readFile(dir, "freezer.parent_freezing"); err != nil || strings.TrimSpace(s) != "1" {
		return ""
	}
	root := filepath.Join(Root, "freezer")
	for d := filepath.Dir(dir); strings.HasPrefix(d, root+"/"); d = filepath.Dir(d) {
		if s, err := readFile(d, "freezer.self_freezing"); err == nil && strings.TrimSpace(s) == "1" {
			return d
		}
	}
	return filepath.Dir(dir)
}

// State: paused when this cgroup was frozen (freezer.self_freezing), even
// while it reads FREEZING: a task joining a frozen cgroup (an exec's
// process) turns it back to FREEZING until the kernel has stopped that task
// too, and the container stays paused meanwhile (resume must thaw it). A
// cgroup frozen through an ancestor reads FROZEN. No freezer means never
// paused.
func (m *fsManager) State() (bool, error) {
	dir, ok := m.paths["freezer"]
	if !ok {
		return false, nil
	}
	s, err := readFile(dir, "freezer.state")
	if err != nil {
		if isNotExist(err) {
			return false, nil
		}
		return false, err
	}
	switch strings.TrimSpace(s) {
	case "FROZEN":
		return true, nil
	case "FREEZING":
		self, err := readFile(dir, "freezer.self_freezing")
		if err != nil {
			if isNotExist(err) {
				return false, nil
			}
			return false, err
		}
		return strings.TrimSpace(self) == "1", nil
	}
	return false, nil
}
