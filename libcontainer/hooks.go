package libcontainer

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"

	"github.com/casco-runtime/casco/libcontainer/plan"
	"github.com/casco-runtime/casco/nsenter"
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
	out, err := openHooksOutput(state.Annotations)
	if err != nil {
		return fmt.Errorf("%s hooks: %w", kind, err)
	}
	defer out.close()
	for i, h := range hooks {
		if err := runHook(h, data, state.Bundle, out); err != nil {
			// runc's words, the init's too: engines and scripts match on them
			return fmt.Errorf(nsenter.HookFailed+"%w", kind, i, err)
		}
	}
	return nil
}

// warnHooks runs every hook of one kind and logs each failure as a warning.
func warnHooks(kind string, hooks []specs.Hook, state *specs.State) {
	if len(hooks) == 0 {
		return
	}
	data, err := json.Marshal(state)
	if err != nil {
		logrus.Warnf("%s hooks: %v", kind, err)
		return
	}
	out, err := openHooksOutput(state.Annotations)
	if err != nil {
		logrus.Warnf("%s hooks: %v", kind, err)
		return
	}
	defer out.close()
	for i, h := range hooks {
		if err := runHook(h, data, state.Bundle, out); err != nil {
			logrus.Warnf(nsenter.HookFailed+"%v", kind, i, err)
		}
	}
}

// hooksOutput are the files run.oci.hooks.stdout and run.oci.hooks.stderr
// name; nil where the hook's output is captured for the error message.
type hooksOutput struct{ stdout, stderr *os.File }

func openHooksOutput(annotations map[string]string) (*hooksOutput, error) {
	stdout, created, err := openHookOutput(annotations, annHooksStdout)
	if err != nil {
		return nil, err
	}
	stderr, _, err := openHookOutput(annotations, annHooksStderr)
	if err != nil {
		if stdout != nil {
			stdout.Close()
			if created { // refused: leave nothing behind
				os.Remove(stdout.Name())
			}
		}
		return nil, err
	}
	return &hooksOutput{stdout: stdout, stderr: stderr}, nil
}

func (o *hooksOutput) close() {
	for _, f := range []*os.File{o.stdout, o.stderr} {
		if f != nil {
			f.Close()
		}
	}
}

// runHook runs one hook as runc does: argv as given (args[0] is argv[0],
// path the file executed), the runtime's own environment when the hook
// gives none, the bundle as working directory, its output in the error
// unless run.oci.hooks.stdout/stderr send it to a file.
func runHook(h specs.Hook, state []byte, dir string, out *hooksOutput) error {
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
	if len(h.Env) > 0 {
		cmd.Env = h.Env
	}
	if st, err := os.Stat(dir); err == nil && st.IsDir() {
		cmd.Dir = dir
	}
	cmd.Stdin = bytes.NewReader(state)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if out.stdout != nil {
		cmd.Stdout = out.stdout
	}
	if out.stderr != nil {
		cmd.Stderr = out.stderr
	}
	// a hook that leaves a daemon holding its output must not hang us
	cmd.WaitDelay = time.Second
	// a hook dies with casco: a caller that gives up on a hanging hook
	// kills casco, and the hook must not live on, orphaned. The parent
	// death signal follows the thread that forks, so that thread stays
	// ours (alive) until the hook has been waited for.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	err := cmd.Run()
	if ctx.Err() == context.DeadlineExceeded {
		return fmt.Errorf(nsenter.HookTimeout, float64(*h.Timeout))
	}
	if err != nil {
		return fmt.Errorf("%w"+nsenter.HookOutput, err, stdout.String(), stderr.String())
	}
	return nil
}

// hookPlan adds hooks the init runs itself (createContainer, startContainer):
// they run in the container's namespaces, which only the init is in.
// Their output goes to fds.hookOut/hookErr where run.oci.hooks.stdout/stderr
// opened a file (fd+1; 0 for none, the output captured for the error).
func (p *planBuilder) hooks(kind string, hooks []specs.Hook, state *specs.State, procEnv []string, fds initFds) error {
	if len(hooks) == 0 {
		return nil
	}
	data, err := json.Marshal(state)
	if err != nil {
		return err
	}
	for i, h := range hooks {
		args := h.Args
		if len(args) == 0 {
			args = []string{h.Path}
		}
		timeout := 0
		if h.Timeout != nil {
			timeout = *h.Timeout
		}
		// as runc 1.5's init: a startContainer hook without an environment
		// of its own gets the process's (procEnv), a createContainer hook
		// none (procEnv nil)
		env := h.Env
		if len(env) == 0 {
			env = procEnv
		}
		strs := append([]string{kind, h.Path}, args...)
		strs = append(strs, env...)
		strs = append(strs, string(data))
		p.Add(plan.OpHook, plan.Ints(uint64(timeout), uint64(len(args)), uint64(len(env)), uint64(i), uint64(fds.hookOut+1), uint64(fds.hookErr+1)), strs...)
	}
	return nil
}
