// Package duration reads the timeouts casco's flags and environment
// variables give: a Go duration ("20s", "1m30s") or a whole number of
// seconds, positive.
package duration

import (
	"fmt"
	"strconv"
	"time"
)

// Parse reads v as a positive Go duration or a number of seconds.
func Parse(v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil {
		n, nerr := strconv.Atoi(v)
		d, err = time.Duration(n)*time.Second, nerr
	}
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q: want a positive duration such as 20s", v)
	}
	return d, nil
}
