// Package nsenter holds the container's init: casco-init, a small static C
// program (init/nsenter.c, built with musl by `make`) that carries out the plan
// the Go parent compiled and execs the user process. It is embedded in the
// casco binary, so casco stays one file, and executed from a sealed
// in-memory copy (see libcontainer's initExe): the container never sees
// the host's casco binary.
package nsenter

import _ "embed"

// Init is the casco-init executable.
//
//go:embed casco-init
var Init []byte
