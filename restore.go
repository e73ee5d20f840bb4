package main

import (
	"os"

	"github.com/urfave/cli"
	"golang.org/x/sys/unix"

	"github.com/casco-runtime/casco/libcontainer"
)

var restoreCommand = cli.Command{
	Name:      "restore",
	Usage:     "restore a container from a CRIU checkpoint, and wait for it unless detached",
	ArgsUsage: "<container-id>",
	Flags: append([]cli.Flag{
		cli.StringFlag{Name: "bundle, b", Usage: "path to the bundle (default: current directory)"},
		cli.BoolFlag{Name: "detach, d", Usage: "return once the container runs"},
		cli.StringFlag{Name: "pid-file", Usage: "write the init's pid to this file"},
		cli.StringFlag{Name: "console-socket", Usage: "unix socket that receives the new pty master of a restored terminal"},
		cli.BoolFlag{Name: "no-subreaper", Usage: "don't become the subreaper of the container's processes"},
		cli.BoolFlag{Name: "no-pivot", Usage: "accepted for runc compatibility (CRIU restores the root itself)"},
		cli.StringFlag{Name: "lsm-profile", Usage: "LSM profile for the restored processes, TYPE:NAME"},
		cli.StringFlag{Name: "lsm-mount-context", Usage: "LSM mount context for the restored mounts"},
	}, criuFlags...),
	Action: waitAction("restore", restore),
}

// restore is run's shape with CRIU in place of create + start: in the
// foreground it passes signals and the terminal through, waits, removes
// the container and returns its exit code.
func restore(ctx *cli.Context, id string) (int, error) {
	bundle := ctx.String("bundle")
	if bundle == "" {
		bundle = "."
	}
	o := &libcontainer.RestoreOpts{
		CriuOpts:        criuOpts(ctx),
		Root:            ctx.GlobalString("root"),
		ID:              id,
		Bundle:          bundle,
		PidFile:         ctx.String("pid-file"),
		ConsoleSocket:   ctx.String("console-socket"),
		Systemd:         ctx.GlobalBool("systemd-cgroup"),
		Rootless:        rootlessCgroups(ctx),
		LsmProfile:      ctx.String("lsm-profile"),
		LsmMountContext: ctx.String("lsm-mount-context"),
		Stdin:           os.Stdin,
		Stdout:          os.Stdout,
		Stderr:          os.Stderr,
	}
	detach := ctx.Bool("detach")
	var tty *terminal
	var sigs *signalCatcher
	if !detach {
		if !ctx.Bool("no-subreaper") {
			unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
		}
		if o.ConsoleSocket == "" && !o.ShellJob {
			var err error
			if tty, o.Console, err = newTerminal(); err != nil {
				return 0, err
			}
			defer tty.close()
		}
		var err error
		if sigs, err = catchSignals(); err != nil {
			return 0, err
		}
	}
	c, init, err := libcontainer.Restore(o)
	if o.Console != nil {
		o.Console.Close()
	}
	if err != nil {
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
	if c, err := libcontainer.Load(o.Root, id); err == nil {
		c.Delete(true)
	}
	return status, nil
}
