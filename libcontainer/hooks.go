package libcontainer

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
)

// runHooks runs hooks of one kind in order, each with the state on stdin.
// The first failure stops the list and is returned.
//
// For poststart and poststop the runtime-spec wants a warning and the rest
// of the hooks run: use warnHooks.
func runHooks(kind string, hooks []specs.Hook, state *specs.State) error {
	if len(hooks) == 0 {
		return nil
	}
	data, err := json.Marshal(state)
	if err != nil {
		return err
	}
	for i, h := range hooks {
		if err := runHook(h, data); err != nil {
			return fmt.Errorf("%s hook #%d (%s): %w", kind, i, h.Path, err)
		}
	}
	return nil
}

// warnHooks runs every hook of one kind and logs each failure as a warning.
func warnHooks(kind string, hooks []specs.Hook, state *specs.State) {
	data, err := json.Marshal(state)
	if err != nil {
		logrus.Warnf("%s hooks: %v", kind, err)
		return
	}
	for i, h := range hooks {
		if err := runHook(h, data); err != nil {
			logrus.Warnf("%s hook #%d (%s): %v", kind, i, h.Path, err)
		}
	}
}

func runHook(h specs.Hook, state []byte) error {
	ctx := context.Background()
	if h.Timeout != nil && *h.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(*h.Timeout)*time.Second)
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, h.Path)
	cmd.Args = h.Args
	if len(cmd.Args) == 0 {
		cmd.Args = []string{h.Path}
	}
	cmd.Env = h.Env
	if cmd.Env == nil {
		cmd.Env = []string{}
	}
	cmd.Stdin = bytes.NewReader(state)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ctx.Err() == context.DeadlineExceeded {
		return fmt.Errorf("timed out after %ds", *h.Timeout)
	}
	if err != nil {
		if msg := strings.TrimSpace(out.String()); msg != "" {
			return fmt.Errorf("%w: %s", err, msg)
		}
		return err
	}
	return nil
}

// hookPlan adds hooks the init runs itself (createContainer, startContainer):
// they run in the container's namespaces, which only the init is in.
func (p *plan) hooks(kind string, hooks []specs.Hook, state *specs.State) error {
	if len(hooks) == 0 {
		return nil
	}
	data, err := json.Marshal(state)
	if err != nil {
		return err
	}
	for _, h := range hooks {
		args := h.Args
		if len(args) == 0 {
			args = []string{h.Path}
		}
		timeout := 0
		if h.Timeout != nil {
			timeout = *h.Timeout
		}
		strs := append([]string{kind, h.Path}, args...)
		strs = append(strs, h.Env...)
		strs = append(strs, string(data))
		p.add(opHook, ints(uint64(timeout), uint64(len(args)), uint64(len(h.Env))), strs...)
	}
	return nil
}
