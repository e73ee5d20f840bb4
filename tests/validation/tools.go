//go:build tools

// Package validation pins the OCI runtime-tools validation programs so
// that they can be built from this module with `go build`.
package validation

import (
	_ "github.com/opencontainers/runtime-tools/cmd/runtimetest"
	_ "github.com/opencontainers/runtime-tools/validation/util"
)
