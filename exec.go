package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/urfave/cli"
	"golang.org/x/sys/unix"

	"github.com/casco-runtime/casco/libcontainer"
)

var execCommand = cli.Command{
	Name:      "exec",
	Usage:     "run another process in a running container",
	ArgsUsage: "<container-id> <command> [args...]",
	Flags: []cli.Flag{
		cli.StringFlag{Name: "process, p", Usage: "a runtime-spec process JSON file (instead of the command line)"},
		cli.BoolFlag{Name: "tty, t", Usage: "allocate a pseudo-TTY"},
		cli.StringFlag{Name: "cwd", Usage: "working directory in the container"},
		cli.StringSliceFlag{Name: "env, e", Usage: "add an environment variable"},
		cli.StringFlag{Name: "user, u", Usage: "uid[:gid]"},
		cli.IntSliceFlag{Name: "additional-gids, g", Usage: "additional group ids"},
		cli.StringSliceFlag{Name: "cap, c", Usage: "add a capability (bounding, effective, permitted)"},
		cli.BoolFlag{Name: "no-new-privs", Usage: "set no_new_privs for the process"},
		cli.StringFlag{Name: "apparmor", Usage: "AppArmor profile for the process"},
		cli.StringFlag{Name: "process-label", Usage: "SELinux label for the process"},
		cli.BoolFlag{Name: "detach, d", Usage: "return once the process runs"},
		cli.StringFlag{Name: "pid-file", Usage: "write the process's pid to this file"},
		cli.StringFlag{Name: "console-socket", Usage: "unix socket that receives the pty master"},
		cli.StringFlag{Name: "pidfd-socket", Usage: "unix socket that receives a pidfd of the process"},
		cli.IntFlag{Name: "preserve-fds", Usage: "pass this many fds after stdio to the process"},
		cli.BoolFlag{Name: "ignore-paused", Usage: "exec even if the container is paused"},
		cli.StringSliceFlag{Name: "cgroup", Usage: "run the process in an (existing) sub-cgroup(s): [<controller>[,<controller>]:]<cgroup>"},
	},
	SkipArgReorder: true,
	Action: func(ctx *cli.Context) error {
		if ctx.NArg() < 1 {
			return fmt.Errorf("exec: expects a container ID")
		}
		id := ctx.Args().First()
		code, err := execProcess(ctx, id)
		if err != nil {
			// 255 as runc: any exit status below is the process's own
			return &codedError{255, fmt.Errorf("exec %q: %w", id, err)}
		}
		if code != 0 {
			return &exitCode{code}
		}
		return nil
	},
}

func execProcess(ctx *cli.Context, id string) (int, error) {
	// no lock: exec changes nothing in the container's state, and waits
	// on processes that may be frozen (--ignore-paused) or slow
	c, err := libcontainer.Open(ctx.GlobalString("root"), id)
	if err != nil {
		return 0, err
	}
	config, err := c.Spec()
	if err != nil {
		return 0, err
	}
	proc, err := execSpec(ctx, config.Process)
	if err != nil {
		return 0, err
	}
	detach := ctx.Bool("detach")
	o := &libcontainer.ExecOpts{
		Process:       proc,
		PidFile:       ctx.String("pid-file"),
		ConsoleSocket: ctx.String("console-socket"),
		PidfdSocket:   ctx.String("pidfd-socket"),
		PreserveFds:   ctx.Int("preserve-fds"),
		IgnorePaused:  ctx.Bool("ignore-paused"),
		SubCgroups:    ctx.StringSlice("cgroup"),
		Stdin:         os.Stdin,
		Stdout:        os.Stdout,
		Stderr:        os.Stderr,
	}
	var tty *terminal
	if !detach {
		// the process is our grandchild (forked into the pid namespace): we reap it
		unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
		if proc.Terminal && o.ConsoleSocket == "" {
			if tty, o.Console, err = newTerminal(); err != nil {
				return 0, err
			}
			defer tty.close()
		}
	}
	var sigs *signalCatcher
	if !detach {
		if sigs, err = catchSignals(); err != nil {
			return 0, err
		}
		o.BeforeRun = sigs.wait
		o.Abort = sigs.abort
	} else if o.Abort, err = catchStop(); err != nil {
		return 0, err
	}
	p, err := c.Exec(o)
	if err != nil {
		return 0, err
	}
	if detach {
		return 0, nil
	}
	if tty != nil {
		if err := tty.attach(); err != nil {
			return 0, err
		}
	}
	return sigs.forward(p, tty), nil
}

// execSpec builds the process from --process or from the flags, on top of
// the container's own process (env, user, capabilities...).
func execSpec(ctx *cli.Context, base *specs.Process) (*specs.Process, error) {
	if path := ctx.String("process"); path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read process file: %w", err)
		}
		var p specs.Process
		if err := json.Unmarshal(data, &p); err != nil {
			return nil, fmt.Errorf("parse process file %s: %w", path, err)
		}
		return &p, nil
	}
	p := *base
	p.Args = ctx.Args().Tail()
	if len(p.Args) == 0 {
		return nil, fmt.Errorf("no command given")
	}
	p.Terminal = ctx.Bool("tty")
	p.ConsoleSize = nil
	if cwd := ctx.String("cwd"); cwd != "" {
		p.Cwd = cwd
	}
	p.Env = append(append([]string{}, p.Env...), ctx.StringSlice("env")...)
	if u := ctx.String("user"); u != "" {
		uid, gid, hasGid := strings.Cut(u, ":")
		n, err := strconv.ParseUint(uid, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("--user %q: want uid[:gid]", u)
		}
		p.User.UID = uint32(n)
		if hasGid {
			g, err := strconv.ParseUint(gid, 10, 32)
			if err != nil {
				return nil, fmt.Errorf("--user %q: want uid[:gid]", u)
			}
			p.User.GID = uint32(g)
		}
	}
	if gids := ctx.IntSlice("additional-gids"); len(gids) > 0 {
		// urfave/cli v1 may report a repeated slice flag twice: keep each gid once
		p.User.AdditionalGids = nil
		seen := map[int]bool{}
		for _, g := range gids {
			if !seen[g] {
				seen[g] = true
				p.User.AdditionalGids = append(p.User.AdditionalGids, uint32(g))
			}
		}
	}
	if caps := ctx.StringSlice("cap"); len(caps) > 0 {
		p.Capabilities = addExecCaps(p.Capabilities, caps)
	}
	if ctx.Bool("no-new-privs") {
		p.NoNewPrivileges = true
	}
	if a := ctx.String("apparmor"); a != "" {
		p.ApparmorProfile = a
	}
	if l := ctx.String("process-label"); l != "" {
		p.SelinuxLabel = l
	}
	return &p, nil
}

// addExecCaps adds exec --cap's capabilities to the bounding, effective and
// permitted sets, never to the inheritable set: an inheritable capability
// would outlive the exec into any program with file capabilities
// (CVE-2022-29162). They go to the ambient set only where the config gives
// inheritable capabilities, as runc 1.2's exec: the kernel keeps an ambient
// capability only if it is also inheritable, so --cap can make ambient
// only what the config already made inheritable.
func addExecCaps(c *specs.LinuxCapabilities, caps []string) *specs.LinuxCapabilities {
	n := specs.LinuxCapabilities{}
	if c != nil {
		n = *c
	}
	n.Bounding = append(append([]string{}, n.Bounding...), caps...)
	n.Effective = append(append([]string{}, n.Effective...), caps...)
	n.Permitted = append(append([]string{}, n.Permitted...), caps...)
	if len(n.Inheritable) > 0 {
		n.Ambient = append(append([]string{}, n.Ambient...), caps...)
	}
	return &n
}
