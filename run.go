package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

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
	Action: func(ctx *cli.Context) error {
		id, err := idArg(ctx)
		if err != nil {
			return err
		}
		code, err := run(ctx, id)
		if err != nil {
			return fmt.Errorf("run %q: %w", id, err)
		}
		if code != 0 {
			return &exitCode{code}
		}
		return nil
	},
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
	sigs := make(chan os.Signal, 64)
	if !detach {
		signal.Notify(sigs)
	}
	c, init, err := libcontainer.Create(opts)
	if err != nil {
		return 0, err
	}
	if err := c.Start(opts.Trace); err != nil {
		c.Delete(true)
		return 0, err
	}
	if detach {
		c.Unlock()
		return 0, nil
	}
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
	status := waitForwarding(init, sigs, tty)
	opts.Trace.Step("run: process exited")
	if !ctx.Bool("keep") {
		if c, err := libcontainer.Load(opts.Root, id); err == nil {
			c.Delete(true)
		}
		opts.Trace.Step("run: deleted")
	}
	return status, nil
}

// waitForwarding forwards signals to the init until it exits and returns
// its exit code, 128+signal when killed, as a shell would.
func waitForwarding(init *libcontainer.Init, sigs chan os.Signal, tty *terminal) int {
	done := make(chan syscall.WaitStatus, 1)
	go func() {
		ws, _ := init.Wait()
		done <- ws
	}()
	for {
		select {
		case ws := <-done:
			signal.Stop(sigs)
			if tty != nil {
				tty.drain()
			}
			if ws.Signaled() {
				return 128 + int(ws.Signal())
			}
			return ws.ExitStatus()
		case s := <-sigs:
			sig := s.(syscall.Signal)
			switch sig {
			case unix.SIGCHLD, unix.SIGURG:
				// SIGCHLD is ours; SIGURG is the Go runtime's preemption signal
			case unix.SIGWINCH:
				if tty != nil {
					tty.resize()
				}
			default:
				unix.Kill(init.Pid, sig)
			}
		}
	}
}
