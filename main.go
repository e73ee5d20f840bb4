// casco is an OCI container runtime: a drop-in for runc.
package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/sirupsen/logrus"
	"github.com/urfave/cli"

	"github.com/casco-runtime/casco/cgroups"
	"github.com/casco-runtime/casco/libcontainer"
)

// version and commit are set by the Makefile.
var (
	version = "0.1.0"
	commit  = ""
)

const usage = `an OCI container runtime

casco runs containers from OCI bundles (a config.json and a root
filesystem), with runc's commands and flags.`

func main() {
	app := newApp()
	if err := app.Run(os.Args); err != nil {
		var exit *exitCode
		if errors.As(err, &exit) {
			os.Exit(exit.code)
		}
		msg := strings.TrimSpace(err.Error())
		if logToFile {
			logrus.Error(msg) // engines read the last error from the log
		}
		fmt.Fprintln(os.Stderr, "casco: "+msg)
		code := 1
		var coded *codedError
		if errors.As(err, &coded) {
			code = coded.code
		}
		os.Exit(code)
	}
}

// newApp defines casco's command line: its flags and commands, which the
// man pages and the bash completion are generated from too (man.go).
func newApp() *cli.App {
	app := cli.NewApp()
	app.Name = "casco"
	app.Usage = usage
	app.Version = version
	cli.VersionPrinter = func(c *cli.Context) {
		fmt.Printf("casco version %s\ncommit: %s\nspec: %s\n", version, commit, specVersion())
	}
	app.Flags = []cli.Flag{
		cli.BoolFlag{Name: "debug", Usage: "enable debug logging"},
		cli.StringFlag{Name: "log", Usage: "write logs to this file instead of stderr"},
		cli.StringFlag{Name: "log-format", Value: "text", Usage: "log format: text or json"},
		cli.StringFlag{Name: "root", Value: defaultRoot(), Usage: "directory for container state"},
		cli.StringFlag{Name: "criu", Value: "criu", Usage: "path to the criu binary for checkpoint and restore"},
		cli.BoolFlag{Name: "systemd-cgroup", Usage: "manage cgroups through systemd (cgroupsPath slice:prefix:name)"},
		cli.StringFlag{Name: "systemd-timeout", Usage: "give up on systemd (D-Bus) after this long per request (default 30s)", EnvVar: cgroups.TimeoutEnv},
		cli.StringFlag{Name: "lock-timeout", Usage: "give up waiting for another command's lock on the container after this long (default 1m)", EnvVar: libcontainer.LockTimeoutEnv},
		cli.StringFlag{Name: "rootless", Value: "auto", Usage: "rootless cgroup handling: true, false or auto"},
		cli.BoolFlag{Name: "trace", Usage: "print where the time of create/start/run went, step by step", EnvVar: "CASCO_TRACE"},
	}
	app.Commands = []cli.Command{
		createCommand, startCommand, runCommand, stateCommand, listCommand,
		killCommand, deleteCommand, execCommand, specCommand, featuresCommand,
		pauseCommand, resumeCommand, psCommand,
		updateCommand, eventsCommand,
		checkpointCommand,
		restoreCommand,
	}
	app.Before = func(ctx *cli.Context) error {
		if err := checkRootlessFlag(ctx); err != nil {
			return err
		}
		if err := setTimeouts(ctx); err != nil {
			return err
		}
		return setupLogging(ctx)
	}
	app.ExitErrHandler = func(*cli.Context, error) {} // errors are reported once, in main
	return app
}

// logToFile is set in Before, when --log sends logs to a file; main then
// logs the final error there too.
var logToFile bool

func setupLogging(ctx *cli.Context) error {
	if ctx.GlobalBool("debug") {
		logrus.SetLevel(logrus.DebugLevel)
	}
	switch f := ctx.GlobalString("log-format"); f {
	case "text", "":
		logrus.SetFormatter(&logrus.TextFormatter{DisableTimestamp: !ctx.GlobalIsSet("log"), DisableQuote: true})
	case "json":
		logrus.SetFormatter(&logrus.JSONFormatter{})
	default:
		return fmt.Errorf("unknown --log-format %q: text or json", f)
	}
	if path := ctx.GlobalString("log"); path != "" {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND|os.O_SYNC, 0644)
		if err != nil {
			return fmt.Errorf("open log file %s: %w", path, err)
		}
		logrus.SetOutput(f)
		logToFile = true
	} else {
		logrus.SetOutput(os.Stderr)
	}
	return nil
}

// exitCode makes casco exit with code without printing anything.
type exitCode struct{ code int }

func (e *exitCode) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// codedError is an error reported like any other but with its own exit
// status: runc's `exec` exits 255 on every failure of its own, so that an
// engine can tell it from the process's exit code.
type codedError struct {
	code int
	err  error
}

func (e *codedError) Error() string { return e.err.Error() }
func (e *codedError) Unwrap() error { return e.err }

// trace returns a step tracer when --trace (or CASCO_TRACE) asks for one.
func trace(ctx *cli.Context) *libcontainer.Trace {
	if ctx.GlobalBool("trace") {
		return libcontainer.NewTrace(os.Stderr)
	}
	if ctx.GlobalBool("debug") {
		return libcontainer.NewDebugTrace()
	}
	return nil
}

// idArg returns the one container ID a command takes.
func idArg(ctx *cli.Context) (string, error) {
	if ctx.NArg() != 1 {
		return "", fmt.Errorf("%s: expects exactly one container ID, got %d arguments", ctx.Command.Name, ctx.NArg())
	}
	id := ctx.Args().First()
	return id, libcontainer.ValidateID(id)
}

// withContainer runs fn on the locked container the one argument names.
func withContainer(ctx *cli.Context, fn func(*libcontainer.Container) error) error {
	c, err := loadContainer(ctx)
	if err != nil {
		return err
	}
	defer c.Unlock()
	return fn(c)
}

// openContainer reads the container the one argument names without its
// lock: for commands that only look, or that act on the kernel's
// processes, and so must never wait behind another command.
func openContainer(ctx *cli.Context) (*libcontainer.Container, error) {
	id, err := idArg(ctx)
	if err != nil {
		return nil, err
	}
	return libcontainer.Open(ctx.GlobalString("root"), id)
}

func loadContainer(ctx *cli.Context) (*libcontainer.Container, error) {
	id, err := idArg(ctx)
	if err != nil {
		return nil, err
	}
	return libcontainer.Load(ctx.GlobalString("root"), id)
}
