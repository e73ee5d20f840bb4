package libcontainer

import (
	"fmt"
	"io"
	"time"
)

// Trace prints where the time of one command went, step by step. A nil
// *Trace records nothing, so callers never check.
type Trace struct {
	w           io.Writer
	start, last time.Time
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
	fmt.Fprintf(t.w, "trace: %-22s %8.3f ms  (at %8.3f ms)\n", name,
		float64(now.Sub(t.last).Microseconds())/1000, float64(now.Sub(t.start).Microseconds())/1000)
	t.last = now
}
