//go:build faultinject

package fault

import (
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// faultSteps counts the steps each operation has passed in this process.
// A test build's only mutable global: one casco command runs one
// operation, and the count is what names a step from the outside.
var faultSteps = map[string]int{}

// Step, in the faultinject build: with CASCO_FAULT="OP:N:kill" casco
// SIGKILLs itself at step N of OP; with "OP:N:fail" the step fails with an
// error, taking the ordinary error path; with "OP:N:stall" the step never
// returns, as a read the kernel does not answer. CASCO_FAULT_LOG names a file that
// gets one line per step passed ("OP N STEP"), so a test learns how many
// steps there are.
func Step(op, step string) error {
	faultSteps[op]++
	n := faultSteps[op]
	if log := os.Getenv("CASCO_FAULT_LOG"); log != "" {
		if f, err := os.OpenFile(log, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644); err == nil {
			fmt.Fprintf(f, "%s %d %s\n", op, n, step)
			f.Close()
		}
	}
	want := strings.Split(os.Getenv("CASCO_FAULT"), ":")
	if len(want) != 3 || want[0] != op || want[1] != strconv.Itoa(n) {
		return nil
	}
	if want[2] == "stall" {
		time.Sleep(math.MaxInt64)
	}
	if want[2] == "kill" {
		unix.Kill(os.Getpid(), unix.SIGKILL)
		select {} // the signal is on its way
	}
	return fmt.Errorf("fault injected: %s step %d (%s)", op, n, step)
}
