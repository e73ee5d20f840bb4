package main

import (
	"regexp"
	"testing"
)

// splitSize must accept exactly what the regexp runc's parser
// (docker/go-units RAMInBytes) uses accepts, and find the same unit.
func TestSplitSizeMatchesTheRegexp(t *testing.T) {
	re := regexp.MustCompile(`^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$`)
	for _, s := range []string{"0", "1", "64m", "64M", "64MB", "64MiB", "64mib", "1g", "1 g", "1  g", "1.5g", "1.5.2k",
		"1.", ".5", "1..2", "10ib", "10i", "10b", "10B", "10 ", " 10", "10x", "10kx", "10kbb", "10kib ", "k", "", "-1", "-5m",
		"12345678901234567890", "3T", "2p", "2e3", "0x10", "1,5m", "1 ", "1.5 MiB"} {
		m := re.FindStringSubmatch(s)
		num, unit, ok := splitSize(s)
		if ok != (m != nil) {
			t.Errorf("%q: splitSize ok=%v, regexp match=%v", s, ok, m != nil)
			continue
		}
		if !ok {
			continue
		}
		wantUnit := byte(0)
		if m[2] != "" {
			wantUnit = m[2][0]
		}
		if num != m[1] || unit != wantUnit {
			t.Errorf("%q: splitSize = %q %q, regexp = %q %q", s, num, unit, m[1], m[2])
		}
	}
	if v, err := ramInBytes("1.5k"); err != nil || v != 1536 {
		t.Errorf("1.5k = %d, %v", v, err)
	}
}
