package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// checkRoot refuses a state root that someone else could write: whoever
// can write there can forge a state.json that points casco's kill or
// delete at any process or cgroup of the host. The root must belong to the
// user running casco and be writable by nobody else (runc's /run/runc is
// root's, mode 0700). A root that does not exist yet is fine: create makes
// it 0700.
func checkRoot(root string) error {
	st, err := os.Stat(root)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("state root %s: %w", root, err)
	}
	sys := st.Sys().(*syscall.Stat_t)
	if euid := os.Geteuid(); int(sys.Uid) != euid {
		return fmt.Errorf("state root %s is owned by uid %d, not by the user running casco (uid %d): refusing to trust the state in it", root, sys.Uid, euid)
	}
	if st.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("state root %s is writable by group or others (mode %#o): refusing to trust the state in it", root, st.Mode().Perm())
	}
	return nil
}
