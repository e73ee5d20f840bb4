// Package nsenter holds the container's init: a C constructor that runs
// before the Go runtime whenever the binary is started as an init (the
// _CASCO_INIT environment variable), carries out the plan the Go parent
// compiled, and execs the user process. Importing the package for its side
// effect links the constructor into the binary.
package nsenter

// #cgo CFLAGS: -Wall -Werror -O2
import "C"
