// Command driver is the benchmark's timing engine: it executes the runtimes
// itself and times every command with Go's monotonic clock, so that 100
// iterations cost no shell and no date(1) on top of what is measured.
//
//	driver prepare -spec SPEC.json -rootfs DIR -out DIR   write the bundles the scenarios use
//	driver bench   -casco BIN -runc BIN -crun BIN ...     run the scenarios, write the report
//	driver trace   -casco BIN -bundle DIR ...             medians of casco --trace run steps
//
// tests/bench/bench.sh and tests/bench/trace.sh call it; see them for the
// whole procedure.
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: driver prepare|bench|trace [flags]")
		os.Exit(2)
	}
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "prepare":
		err = prepareMain(args)
	case "bench":
		err = benchMain(args)
	case "trace":
		err = traceMain(args)
	default:
		err = fmt.Errorf("unknown command %q", cmd)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "driver:", err)
		os.Exit(1)
	}
}
