package libcontainer

import (
	"bytes"
	"os"
)

// apparmorEnabled reports whether the kernel enforces AppArmor profiles.
func apparmorEnabled() bool {
	data, err := os.ReadFile("/sys/module/apparmor/parameters/enabled")
	return err == nil && bytes.HasPrefix(data, []byte("Y"))
}
