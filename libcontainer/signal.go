package libcontainer

import (
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// ParseSignal accepts a signal as a number, a name, or a name without SIG.
// 0 is taken, as runc takes it: no signal, only the question whether the
// container's init is there (kill(2) with signal 0).
func ParseSignal(s string) (unix.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n < 0 || n > 64 {
			return 0, fmt.Errorf("unknown signal %q", s)
		}
		return unix.Signal(n), nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if sig := unix.SignalNum(name); sig != 0 {
		return sig, nil
	}
	// real-time signals: SIGRTMIN+n, SIGRTMAX-n
	if rest, ok := strings.CutPrefix(name, "SIGRTMIN"); ok {
		if n, err := strconv.Atoi(strings.TrimPrefix(rest, "+")); err == nil || rest == "" {
			if sig := 34 + n; sig <= 64 {
				return unix.Signal(sig), nil
			}
		}
	}
	if rest, ok := strings.CutPrefix(name, "SIGRTMAX"); ok {
		if n, err := strconv.Atoi(strings.TrimPrefix(rest, "-")); err == nil || rest == "" {
			if sig := 64 - n; sig >= 34 {
				return unix.Signal(sig), nil
			}
		}
	}
	return 0, fmt.Errorf("unknown signal %q", s)
}
