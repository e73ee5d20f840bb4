// Package nsenter holds the container's init: casco-init, a small static C
// program (init/*.c, a file per subject, main.c the interpreter; built with
// musl by `make`) that carries out the plan the Go parent compiled and
// execs the user process. It is embedded in the casco binary, so casco
// stays one file, and executed from a sealed in-memory copy (see
// libcontainer's initExe): the container never sees the host's casco
// binary.
package nsenter

import (
	"embed"
	"errors"
)

// bin holds casco-init once `make` has built it (and a README, so that
// the package compiles without it: `go vet`, editors, plain `go build`).
//
//go:embed bin
var bin embed.FS

// Init returns the casco-init executable.
func Init() ([]byte, error) {
	data, err := bin.ReadFile("bin/casco-init")
	if err != nil {
		return nil, errors.New("this casco was built without casco-init: build it with make")
	}
	return data, nil
}
