package libcontainer

import (
	"encoding/binary"
	"fmt"
	"io"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/casco-runtime/casco/libcontainer/plan"
)

// Trace prints where the time of one command went, step by step. A nil
// *Trace records nothing, so callers never check. A debug trace logs the
// same steps at debug level instead (--debug, as runc logs its steps).
type Trace struct {
	w           io.Writer
	debug       bool
	start, last time.Time
}

// NewDebugTrace starts a trace that logs each step with logrus.Debugf.
func NewDebugTrace() *Trace {
	now := time.Now()
	return &Trace{debug: true, start: now, last: now}
}

// NewTrace starts a trace that writes to w.
func NewTrace(w io.Writer) *Trace {
	now := time.Now()
	return &Trace{w: w, start: now, last: now}
}

// Step reports the time since the previous step under name.
func (t *Trace) Step(name string) {
	if t == nil {
		return
	}
	now := time.Now()
	if t.debug {
		logrus.Debugf("%s (%.3f ms)", name, float64(now.Sub(t.last).Microseconds())/1000)
		t.last = now
		return
	}
	fmt.Fprintf(t.w, "trace: %-22s %8.3f ms  (at %8.3f ms)\n", name,
		float64(now.Sub(t.last).Microseconds())/1000, float64(now.Sub(t.start).Microseconds())/1000)
	t.last = now
}

// initSteps prints the init's own timings: nanoseconds and calls per op
// code, as nsenter measured them.
func (t *Trace) initSteps(data []byte) {
	if t == nil {
		return
	}
	for code := 0; code < plan.OpMax && (code+1)*16 <= len(data); code++ {
		ns := binary.NativeEndian.Uint64(data[code*16:])
		n := binary.NativeEndian.Uint64(data[code*16+8:])
		if n == 0 || plan.OpNames[code] == "" {
			continue
		}
		if t.debug {
			logrus.Debugf("init: %s (%.3f ms, %d)", plan.OpNames[code], float64(ns)/1e6, n)
			continue
		}
		fmt.Fprintf(t.w, "trace:   init %-18s %8.3f ms  (%d)\n", plan.OpNames[code], float64(ns)/1e6, n)
	}
}

// enabled says whether the init should time its steps.
func (t *Trace) enabled() bool { return t != nil }
