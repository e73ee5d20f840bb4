package main

import (
	"fmt"

	"github.com/urfave/cli"
	"golang.org/x/sys/unix"

	"github.com/casco-runtime/casco/libcontainer"
)

var runCommand = cli.Command{
	Name:      "run",
	Usage:     "create and start a container, and wait for it unless detached",
	ArgsUsage: "<container-id>",
	Flags: append([]cli.Flag{
		cli.BoolFlag{Name: "detach, d", Usage: "return once the container runs"},
		cli.BoolFlag{Name: "keep", Usage: "keep the container's state after it exits"},
	}, createFlags...),
	Action: waitAction("run", run),
}

// waitAction is the Action of a command that runs a container and, in the
// foreground, exits with its process's code (run, restore).
func waitAction(verb string, fn func(*cli.Context, string) (int, error)) func(*cli.Context) error {
	return func(ctx *cli.Context) error {
		id, err := idArg(ctx)
		if err != nil {
			return err
		}
		code, err := fn(ctx, id)
		if err != nil {
			return fmt.Errorf("%s %q: %w", verb, id, err)
		}
		if code != 0 {
			return &exitCode{code}
		}
		return nil
	}
}

// follow is the foreground half of run and restore once the container
// runs: its terminal attached if its process has one, the container's
// lock released so that other commands can reach it, signals passed on
// until the process exits; it returns the process's exit status.
func follow(c *libcontainer.Container, init *libcontainer.Init, tty *terminal, sigs *signalCatcher) (int, error) {
	if s, _ := c.Spec(); tty != nil && (s == nil || !s.Process.Terminal) {
		tty.close()
		tty = nil
	}
	if tty != nil {
		if err := tty.attach(); err != nil {
			c.Delete(true)
			return 0, err
		}
	}
	c.Unlock()
	return sigs.forward(init, tty), nil
}

// run is create + start, and in the foreground it passes signals and the
// terminal through, waits, removes the container and returns its exit code.
func run(ctx *cli.Context, id string) (int, error) {
	opts := createOpts(ctx, id)
	detach := ctx.Bool("detach")
	var tty *terminal
	if !detach {
		// become the subreaper so an init in a joined pid namespace is ours to wait for
		unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
		if opts.ConsoleSocket == "" {
			var err error
			if tty, opts.Console, err = newTerminal(); err != nil {
				return 0, err
			}
			defer tty.close()
		}
	}
	// signals that arrive while the container starts are forwarded once it runs
	var sigs *signalCatcher
	var err error
	if !detach {
		if sigs, err = catchSignals(); err != nil {
			return 0, err
		}
		opts.Abort = sigs.abort
	} else if opts.Abort, err = catchStop(); err != nil {
		return 0, err
	}
	c, init, err := libcontainer.Create(opts)
	if err != nil {
		return 0, err
	}
	if sigs != nil {
		sigs.wait()
	}
	if err := c.Start(opts.Trace); err != nil {
		c.Delete(true)
		return 0, err
	}
	if detach {
		c.Unlock()
		return 0, nil
	}
	status, err := follow(c, init, tty, sigs)
	if err != nil {
		return 0, err
	}
	opts.Trace.Step("run: process exited")
	if !ctx.Bool("keep") {
		if c, err := libcontainer.Load(opts.Root, id); err == nil {
			c.Delete(true)
		}
		opts.Trace.Step("run: deleted")
	}
	return status, nil
}
